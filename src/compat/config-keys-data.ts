/**
 * The keys of every section of prometheus.yml, per release. Generated from the Go sources: the yaml tags of
 * each struct reachable from config.Config (P@v<tag>:config/config.go, model/relabel/relabel.go,
 * storage/remote/{azuread,googleiam}), of prometheus/common's config/http_config.go at the version each
 * tag's go.mod requires (HTTPClientConfig, TLSConfig, OAuth2, ... inlined as Go inlines them), and the
 * service-discovery mechanisms each tag registers (`func (*SDConfig) Name() string`, key <name>_sd_configs).
 * Tags read: every minor v2.42.0 ... v3.14.0 plus v2.48.1, v2.55.1 and v3.8.1, and v3.16.0 from the Go module cache
 * (github.com/prometheus/prometheus@v0.316.0, common v0.72.1). 3.15 was not read: the two keys first seen in
 * 3.16.0 that CHANGELOG 3.15.0 introduces (runtime.log_level #19511, remote_write failed_request_logging #19249)
 * carry 3.15.0.
 *
 * `keys`: `name` (in every release read), `name@3.0.0` (from 3.0.0 on), `name@2.45.0-3.0.0` (from 2.45.0,
 * gone in 3.0.0). `children`: the section a key's value is (`[]` a list of them); a key without a child
 * section (scalars, free-form maps such as external_labels, the inside of *_sd_configs) is not looked into.
 * Both 2.x and 3.x load prometheus.yml with yaml.UnmarshalStrict, so any other key stops the config loading.
 * test/lint/config-keys.test.ts checks this table against the promtool of every lab version.
 */
export interface ConfigSectionRow {
  since?: string;
  keys: string;
  children: Record<string, string>;
}

export const CONFIG_KEY_TABLE_READ_UP_TO = '3.16.0';

export const CONFIG_KEY_TABLE: Record<string, ConfigSectionRow> = {
  'prom.Config': {
    keys: 'global alerting rule_files scrape_configs storage tracing remote_write remote_read scrape_config_files@2.43.0 runtime@2.53.0 otlp@2.55.0',
    children: {
      global: 'prom.GlobalConfig',
      alerting: 'prom.AlertingConfig',
      scrape_configs: '[]prom.ScrapeConfig',
      storage: 'prom.StorageConfig',
      tracing: 'prom.TracingConfig',
      remote_write: '[]prom.RemoteWriteConfig',
      remote_read: '[]prom.RemoteReadConfig',
      runtime: 'prom.RuntimeConfig',
      otlp: 'prom.OTLPConfig',
    },
  },
  'prom.GlobalConfig': {
    keys: 'scrape_interval scrape_timeout evaluation_interval query_log_file external_labels body_size_limit@2.45.0 sample_limit@2.45.0 target_limit@2.45.0 label_limit@2.45.0 label_name_length_limit@2.45.0 label_value_length_limit@2.45.0 keep_dropped_targets@2.47.0 scrape_protocols@2.49.0 rule_query_offset@2.53.0 scrape_failure_log_file@2.55.0 metric_name_validation_scheme@2.55.0 metric_name_escaping_scheme@3.4.0 convert_classic_histograms_to_nhcb@3.4.0 always_scrape_classic_histograms@3.5.0 scrape_native_histograms@3.8.0 extra_scrape_metrics@3.10.0 query_max_series@3.16.0 query_max_samples_read@3.16.0 query_max_duration@3.16.0',
    children: {},
  },
  'prom.AlertingConfig': {
    keys: 'alert_relabel_configs alertmanagers',
    children: { alert_relabel_configs: '[]relabel.Config', alertmanagers: '[]prom.AlertmanagerConfig' },
  },
  'relabel.Config': {
    keys: 'source_labels separator regex modulus target_label replacement action',
    children: {},
  },
  'prom.AlertmanagerConfig': {
    keys: 'basic_auth authorization oauth2 bearer_token bearer_token_file proxy_url proxy_connect_header tls_config follow_redirects enable_http2 scheme path_prefix timeout api_version relabel_configs azure_sd_configs consul_sd_configs digitalocean_sd_configs dns_sd_configs docker_sd_configs dockerswarm_sd_configs ec2_sd_configs eureka_sd_configs file_sd_configs gce_sd_configs hetzner_sd_configs http_sd_configs ionos_sd_configs kubernetes_sd_configs kuma_sd_configs lightsail_sd_configs linode_sd_configs marathon_sd_configs nerve_sd_configs nomad_sd_configs openstack_sd_configs ovhcloud_sd_configs puppetdb_sd_configs scaleway_sd_configs serverset_sd_configs static_configs triton_sd_configs uyuni_sd_configs vultr_sd_configs no_proxy@2.43.0 proxy_from_environment@2.43.0 sigv4@2.48.0 alert_relabel_configs@2.51.0 http_headers@2.53.0 stackit_sd_configs@3.5.0 aws_sd_configs@3.8.0 ecs_sd_configs@3.8.0 msk_sd_configs@3.10.0 elasticache_sd_configs@3.11.0 rds_sd_configs@3.11.0 outscale_sd_configs@3.12.0 oci_sd_configs@3.14.0',
    children: {
      basic_auth: 'common.BasicAuth',
      authorization: 'common.Authorization',
      oauth2: 'common.OAuth2',
      tls_config: 'common.TLSConfig',
      relabel_configs: '[]relabel.Config',
      static_configs: '[]targetgroup.Group',
      alert_relabel_configs: '[]relabel.Config',
    },
  },
  'common.BasicAuth': {
    keys: 'username password password_file username_file@2.49.0 username_ref@2.53.0 password_ref@2.53.0',
    children: {},
  },
  'common.Authorization': {
    keys: 'type credentials credentials_file credentials_ref@2.53.0',
    children: {},
  },
  'common.OAuth2': {
    keys: 'client_id client_secret client_secret_file scopes token_url endpoint_params proxy_url tls_config no_proxy@2.43.0 proxy_from_environment@2.43.0 proxy_connect_header@2.43.0 client_secret_ref@2.53.0 client_certificate_key_id@3.8.0 client_certificate_key@3.8.0 client_certificate_key_file@3.8.0 client_certificate_key_ref@3.8.0 grant_type@3.8.0 signature_algorithm@3.8.0 iss@3.8.0 audience@3.8.0 claims@3.8.0',
    children: { tls_config: 'common.TLSConfig' },
  },
  'common.TLSConfig': {
    keys: 'ca_file cert_file key_file server_name insecure_skip_verify min_version max_version ca@2.45.0 cert@2.45.0 key@2.45.0 ca_ref@2.53.0 cert_ref@2.53.0 key_ref@2.53.0',
    children: {},
  },
  'prom.ScrapeConfig': {
    keys: 'job_name honor_labels honor_timestamps params scrape_interval scrape_timeout metrics_path scheme body_size_limit sample_limit target_limit label_limit label_name_length_limit label_value_length_limit basic_auth authorization oauth2 bearer_token bearer_token_file proxy_url proxy_connect_header tls_config follow_redirects enable_http2 relabel_configs metric_relabel_configs azure_sd_configs consul_sd_configs digitalocean_sd_configs dns_sd_configs docker_sd_configs dockerswarm_sd_configs ec2_sd_configs eureka_sd_configs file_sd_configs gce_sd_configs hetzner_sd_configs http_sd_configs ionos_sd_configs kubernetes_sd_configs kuma_sd_configs lightsail_sd_configs linode_sd_configs marathon_sd_configs nerve_sd_configs nomad_sd_configs openstack_sd_configs ovhcloud_sd_configs puppetdb_sd_configs scaleway_sd_configs serverset_sd_configs static_configs triton_sd_configs uyuni_sd_configs vultr_sd_configs no_proxy@2.43.0 proxy_from_environment@2.43.0 scrape_classic_histograms@2.45.0-3.0.0 native_histogram_bucket_limit@2.45.0 keep_dropped_targets@2.47.0 track_timestamps_staleness@2.48.0 scrape_protocols@2.49.0 enable_compression@2.49.0 native_histogram_min_bucket_factor@2.50.0 http_headers@2.53.0 scrape_failure_log_file@2.55.0 metric_name_validation_scheme@2.55.0 fallback_scrape_protocol@3.0.0 always_scrape_classic_histograms@3.0.0 convert_classic_histograms_to_nhcb@3.0.0 metric_name_escaping_scheme@3.4.0 stackit_sd_configs@3.5.0 scrape_native_histograms@3.8.0 aws_sd_configs@3.8.0 ecs_sd_configs@3.8.0 extra_scrape_metrics@3.10.0 msk_sd_configs@3.10.0 elasticache_sd_configs@3.11.0 rds_sd_configs@3.11.0 outscale_sd_configs@3.12.0 oci_sd_configs@3.14.0',
    children: {
      basic_auth: 'common.BasicAuth',
      authorization: 'common.Authorization',
      oauth2: 'common.OAuth2',
      tls_config: 'common.TLSConfig',
      relabel_configs: '[]relabel.Config',
      metric_relabel_configs: '[]relabel.Config',
      static_configs: '[]targetgroup.Group',
    },
  },
  'prom.StorageConfig': {
    keys: 'tsdb exemplars',
    children: { tsdb: 'prom.TSDBConfig', exemplars: 'prom.ExemplarsConfig' },
  },
  'prom.TSDBConfig': {
    keys: 'out_of_order_time_window retention@3.8.0 stale_series_compaction_threshold@3.10.0 chunk_encoding@3.13.0',
    children: { retention: 'prom.TSDBRetentionConfig', chunk_encoding: 'prom.ChunkEncodingConfig' },
  },
  'prom.ExemplarsConfig': {
    keys: 'max_exemplars',
    children: {},
  },
  'prom.TracingConfig': {
    keys: 'client_type endpoint sampling_fraction insecure tls_config headers compression timeout',
    children: { tls_config: 'common.TLSConfig' },
  },
  'prom.RemoteWriteConfig': {
    keys: 'url remote_timeout headers write_relabel_configs name send_exemplars send_native_histograms basic_auth authorization oauth2 bearer_token bearer_token_file proxy_url proxy_connect_header tls_config follow_redirects enable_http2 queue_config metadata_config sigv4 no_proxy@2.43.0 proxy_from_environment@2.43.0 azuread@2.45.0 http_headers@2.53.0 protobuf_message@2.54.0 google_iam@2.55.0 round_robin_dns@3.1.0 failed_request_logging@3.15.0 convert_nhcb_to_classic@3.16.0',
    children: {
      write_relabel_configs: '[]relabel.Config',
      basic_auth: 'common.BasicAuth',
      authorization: 'common.Authorization',
      oauth2: 'common.OAuth2',
      tls_config: 'common.TLSConfig',
      queue_config: 'prom.QueueConfig',
      metadata_config: 'prom.MetadataConfig',
      azuread: 'azuread.AzureADConfig',
      google_iam: 'googleiam.Config',
    },
  },
  'prom.QueueConfig': {
    keys: 'capacity max_shards min_shards max_samples_per_send batch_send_deadline min_backoff max_backoff retry_on_http_429 sample_age_limit@2.50.0',
    children: {},
  },
  'prom.MetadataConfig': {
    keys: 'send send_interval max_samples_per_send',
    children: {},
  },
  'prom.RemoteReadConfig': {
    keys: 'url remote_timeout headers read_recent name basic_auth authorization oauth2 bearer_token bearer_token_file proxy_url proxy_connect_header tls_config follow_redirects enable_http2 required_matchers filter_external_labels no_proxy@2.43.0 proxy_from_environment@2.43.0 http_headers@2.53.0 chunked_read_limit@2.55.0',
    children: {
      basic_auth: 'common.BasicAuth',
      authorization: 'common.Authorization',
      oauth2: 'common.OAuth2',
      tls_config: 'common.TLSConfig',
    },
  },
  'targetgroup.Group': {
    keys: 'targets labels',
    children: {},
  },
  'azuread.AzureADConfig': {
    since: '2.45.0',
    keys: 'managed_identity@2.45.0 cloud@2.45.0 oauth@2.48.0 sdk@2.52.0 workload_identity@3.7.0 scope@3.9.0 certificate@3.13.0',
    children: {
      managed_identity: 'azuread.ManagedIdentityConfig',
      oauth: 'azuread.OAuthConfig',
      sdk: 'azuread.SDKConfig',
      workload_identity: 'azuread.WorkloadIdentityConfig',
      certificate: 'azuread.CertificateConfig',
    },
  },
  'azuread.ManagedIdentityConfig': { since: '2.45.0', keys: 'client_id@2.45.0', children: {} },
  'azuread.OAuthConfig': {
    since: '2.48.0',
    keys: 'client_id@2.48.0 client_secret@2.48.0 tenant_id@2.48.0',
    children: {},
  },
  'azuread.SDKConfig': { since: '2.52.0', keys: 'tenant_id@2.52.0', children: {} },
  'prom.RuntimeConfig': { since: '2.53.0', keys: 'gogc@2.53.0 log_level@3.15.0', children: {} },
  'googleiam.Config': { since: '2.55.0', keys: 'credentials_file@2.55.0', children: {} },
  'prom.OTLPConfig': {
    since: '2.55.0',
    keys: 'promote_resource_attributes@2.55.0 translation_strategy@3.0.0 keep_identifying_resource_attributes@3.1.0 convert_histograms_to_nhcb@3.4.0 promote_all_resource_attributes@3.5.0 ignore_resource_attributes@3.5.0 promote_scope_metadata@3.6.0 label_name_underscore_sanitization@3.8.0 label_name_preserve_multiple_underscores@3.8.0',
    children: {},
  },
  'azuread.WorkloadIdentityConfig': {
    since: '3.7.0',
    keys: 'client_id@3.7.0 tenant_id@3.7.0 token_file_path@3.7.0',
    children: {},
  },
  'prom.TSDBRetentionConfig': { since: '3.8.0', keys: 'time@3.8.0 size@3.8.0 percentage@3.11.0', children: {} },
  'prom.ChunkEncodingConfig': { since: '3.13.0', keys: 'floats@3.13.0', children: {} },
  'azuread.CertificateConfig': {
    since: '3.13.0',
    keys: 'client_id@3.13.0 tenant_id@3.13.0 certificate_path@3.13.0 certificate_key_path@3.13.0 certificate_password@3.13.0 send_certificate_chain@3.13.0',
    children: {},
  },
};
