package apisix

// BundledPlugins are the HTTP plugins an APISIX 3.x node enables by default
// (its config-default plugin list). The control core refuses other names, so
// a typo never reaches a gateway, which would drop the whole route.
var BundledPlugins = map[string]bool{}

func init() {
	for _, name := range []string{"real-ip", "ai", "client-control", "proxy-buffering", "proxy-control", "request-id", "zipkin", "ext-plugin-pre-req", "fault-injection", "mocking", "serverless-pre-function", "cors", "ip-restriction", "ua-restriction", "referer-restriction", "csrf", "uri-blocker", "request-validation", "chaitin-waf", "multi-auth", "openid-connect", "saml-auth", "cas-auth", "authz-casbin", "authz-casdoor", "wolf-rbac", "ldap-auth-advanced", "ldap-auth", "hmac-auth", "basic-auth", "jwt-auth", "jwe-decrypt", "key-auth", "dingtalk-auth", "feishu-auth", "acl", "consumer-restriction", "attach-consumer-label", "forward-auth", "opa", "authz-keycloak", "data-mask", "proxy-cache", "body-transformer", "ai-prompt-template", "ai-prompt-decorator", "ai-prompt-guard", "ai-rag", "ai-rate-limiting", "ai-proxy-multi", "ai-proxy", "ai-cache", "ai-aws-content-moderation", "ai-aliyun-content-moderation", "ai-lakera-guard", "proxy-mirror", "graphql-proxy-cache", "proxy-rewrite", "workflow", "api-breaker", "graphql-limit-count", "limit-conn", "limit-count", "limit-req", "gzip", "server-info", "traffic-label", "traffic-split", "redirect", "response-rewrite", "oas-validator", "mcp-bridge", "degraphql", "kafka-proxy", "grpc-transcode", "grpc-web", "http-dubbo", "public-api", "prometheus", "datadog", "lago", "loki-logger", "elasticsearch-logger", "echo", "loggly", "http-logger", "splunk-hec-logging", "skywalking-logger", "google-cloud-logging", "sls-logger", "tcp-logger", "kafka-logger", "rocketmq-logger", "syslog", "udp-logger", "file-logger", "clickhouse-logger", "tencent-cloud-cls", "inspect", "aws-lambda", "azure-functions", "openwhisk", "openfunction", "serverless-post-function", "ext-plugin-post-req", "ext-plugin-post-resp", "ai-request-rewrite"} {
		BundledPlugins[name] = true
	}
}

// ManagedPlugins are the route plugins the control core itself sets from the
// portal's API policies; users cannot put them in plugin templates.
var ManagedPlugins = map[string]bool{"key-auth": true, "consumer-restriction": true, "limit-count": true}

// NodePlugins are the plugins this product's own data plane node runs.
var NodePlugins = map[string]bool{"key-auth": true, "consumer-restriction": true, "limit-count": true, "proxy-rewrite": true}

// ObservingPlugins only observe traffic (metrics, logs, traces): the node
// accepts them and does nothing for them. A route with any other plugin the
// node does not run is skipped by the node, as APISIX skips a route with a
// plugin it does not know, so a route never runs without a plugin that
// would change the answer.
var ObservingPlugins = map[string]bool{
	"prometheus": true, "datadog": true, "zipkin": true, "opentelemetry": true, "skywalking": true,
	"http-logger": true, "tcp-logger": true, "udp-logger": true, "kafka-logger": true, "rocketmq-logger": true,
	"file-logger": true, "syslog": true, "loki-logger": true, "elasticsearch-logger": true, "clickhouse-logger": true,
	"splunk-hec-logging": true, "skywalking-logger": true, "google-cloud-logging": true, "sls-logger": true,
	"loggly": true, "tencent-cloud-cls": true, "lago": true,
}
