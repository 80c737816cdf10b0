package admin

import (
	"sort"
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

func onlineKind(n int) string {
	if n > 0 {
		return "online"
	}
	return "offline"
}

// firstError is the error of field, or of the first of its sub-fields
// ("routes[0].paths" for "routes"), so that an error always shows.
func firstError(errs map[string]string, field string) string {
	if e, ok := errs[field]; ok {
		return e
	}
	var keys []string
	for k := range errs {
		if strings.HasPrefix(k, field+"[") || strings.HasPrefix(k, field+".") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	return keys[0] + ": " + errs[keys[0]]
}

// prefixedErrors is every error whose field starts with prefix, as "field: message".
func prefixedErrors(errs map[string]string, prefix string) []string {
	var out []string
	for k, v := range errs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k+": "+v)
		}
	}
	sort.Strings(out)
	return out
}

func join(list []string) string { return strings.Join(list, ", ") }

// waitingText says how many outbox changes wait, in a sentence.
func waitingText(n int64) string {
	if n == 1 {
		return "1 change is waiting for etcd"
	}
	return n64(n) + " changes are waiting for etcd"
}
