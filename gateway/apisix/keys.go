package apisix

import "strings"

// Kind is a resource directory under a group's prefix.
type Kind string

// The directories APISIX 3.x reads.
const (
	KindRoutes        Kind = "routes"
	KindServices      Kind = "services"
	KindUpstreams     Kind = "upstreams"
	KindPluginConfigs Kind = "plugin_configs"
	KindConsumers     Kind = "consumers"
	KindStreamRoutes  Kind = "stream_routes"
	KindServerInfo    Kind = "data_plane/server_info"
)

// Key is the etcd key of a resource: P/<kind>/<id>.
func Key(prefix string, kind Kind, id string) string {
	return strings.TrimRight(prefix, "/") + "/" + string(kind) + "/" + id
}

// Dir is the key prefix of a kind, with its trailing slash: P/<kind>/.
func Dir(prefix string, kind Kind) string {
	return strings.TrimRight(prefix, "/") + "/" + string(kind) + "/"
}

// CredentialKey is P/consumers/<username>/credentials/<id>.
func CredentialKey(prefix, username, id string) string {
	return Key(prefix, KindConsumers, username) + "/credentials/" + id
}

// CredentialsDir is P/consumers/<username>/credentials/.
func CredentialsDir(prefix, username string) string {
	return Key(prefix, KindConsumers, username) + "/credentials/"
}

// ParsedKey is what a key under a prefix names.
type ParsedKey struct {
	Kind Kind
	ID   string // route, service, ... id; for consumers and credentials the username
	// CredentialID is set for P/consumers/<username>/credentials/<id>.
	CredentialID string
}

// ParseKey tells what a key under prefix names; ok is false for keys that are
// not a resource (the kind's directory marker, unknown directories).
func ParseKey(prefix, key string) (ParsedKey, bool) {
	p := strings.TrimRight(prefix, "/") + "/"
	if !strings.HasPrefix(key, p) {
		return ParsedKey{}, false
	}
	rest := key[len(p):]
	if strings.HasPrefix(rest, string(KindServerInfo)+"/") {
		id := rest[len(KindServerInfo)+1:]
		return ParsedKey{Kind: KindServerInfo, ID: id}, id != ""
	}
	kind, id, found := strings.Cut(rest, "/")
	if !found || id == "" {
		return ParsedKey{}, false
	}
	switch Kind(kind) {
	case KindConsumers:
		user, cred, isCred := strings.Cut(id, "/credentials/")
		if isCred {
			if user == "" || cred == "" || strings.Contains(cred, "/") {
				return ParsedKey{}, false
			}
			return ParsedKey{Kind: KindConsumers, ID: user, CredentialID: cred}, true
		}
		if strings.Contains(id, "/") {
			return ParsedKey{}, false
		}
		return ParsedKey{Kind: KindConsumers, ID: id}, true
	case KindRoutes, KindServices, KindUpstreams, KindPluginConfigs, KindStreamRoutes:
		if strings.Contains(id, "/") {
			return ParsedKey{}, false
		}
		return ParsedKey{Kind: Kind(kind), ID: id}, true
	}
	return ParsedKey{}, false
}
