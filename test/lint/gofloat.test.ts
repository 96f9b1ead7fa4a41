import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloatG, normaliseLabelFloat, parseGoFloat } from '../../src/promql/index.js';

test("formatFloatG matches Go strconv.FormatFloat(f, 'g', -1, 64)", () => {
  // expected strings are what Go 1.22 prints for fmt.Println(strconv.FormatFloat(f, 'g', -1, 64))
  const table: Array<[number, string]> = [
    [1, '1'],
    [100, '100'],
    [1e6, '1e+06'],
    [0.00001, '1e-05'],
    [Infinity, '+Inf'],
    [NaN, 'NaN'],
    [-1, '-1'],
    [2.5e-7, '2.5e-07'],
    [100000, '100000'],
    [123456, '123456'],
    [1234567, '1.234567e+06'],
    [0.0001, '0.0001'],
    [0.5, '0.5'],
    [-Infinity, '-Inf'],
    [1e21, '1e+21'],
    [1.5e300, '1.5e+300'],
    [5e-324, '5e-324'],
    [0.1 + 0.2, '0.30000000000000004'],
    [12.5, '12.5'],
    [-0.025, '-0.025'],
  ];
  for (const [f, want] of table) assert.equal(formatFloatG(f), want, `formatFloatG(${f})`);
});

test('le/quantile normalisation matches Prometheus 3 formatOpenMetricsFloat', () => {
  const table: Array<[string, string]> = [
    ['1', '1.0'],
    ['100', '100.0'],
    ['1e6', '1e+06'],
    ['1000000', '1e+06'],
    ['0.00001', '1e-05'],
    ['+Inf', '+Inf'],
    ['Inf', '+Inf'],
    ['-Inf', '-Inf'],
    ['NaN', 'NaN'],
    ['-1', '-1.0'],
    ['2.5e-7', '2.5e-07'],
    ['0', '0.0'],
    ['-0', '0.0'],
    ['100000', '100000.0'],
    ['0.5', '0.5'],
    ['0.25', '0.25'],
    ['1.0', '1.0'],
    ['10.00', '10.0'],
    ['abc', 'abc'],
    ['', ''],
    ['1_000', '1_000'],
  ];
  for (const [s, want] of table) assert.equal(normaliseLabelFloat(s), want, `normalise(${JSON.stringify(s)})`);
});

test('parseGoFloat accepts what strconv.ParseFloat accepts and nothing else', () => {
  assert.equal(parseGoFloat('1e6'), 1e6);
  assert.equal(parseGoFloat('+Inf'), Infinity);
  assert.equal(parseGoFloat('infinity'), Infinity);
  assert.ok(Number.isNaN(parseGoFloat('nan')!));
  assert.equal(parseGoFloat('+nan'), undefined);
  assert.equal(parseGoFloat('0x1p-2'), 0.25);
  assert.equal(parseGoFloat('0x10'), undefined);
  assert.equal(parseGoFloat('1_0'), undefined);
  assert.equal(parseGoFloat('.5'), 0.5);
  assert.equal(parseGoFloat('5.'), 5);
  assert.equal(parseGoFloat(' 1'), undefined);
});
