package dataplane

import (
	"testing"
)

// Cases from APISIX's t/plugin/consumer-restriction.t and its doc.
func TestConsumerRestriction(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	for _, u := range []string{"jack1", "jack2"} {
		e.put("consumers/"+u, map[string]any{"username": u, "plugins": map[string]any{"key-auth": map[string]any{"key": encKey(t, "key-"+u)}}})
	}
	e.put("routes/white", keyAuthRoute("/white", up, map[string]any{}, map[string]any{
		"consumer-restriction": map[string]any{"whitelist": []string{"jack1"}}}))
	e.put("routes/black", keyAuthRoute("/black", up, map[string]any{}, map[string]any{
		"consumer-restriction": map[string]any{"blacklist": []string{"jack1"}}}))
	e.put("routes/msg", keyAuthRoute("/msg", up, map[string]any{}, map[string]any{
		"consumer-restriction": map[string]any{"whitelist": []string{"jack1"}, "rejected_code": 401, "rejected_msg": "request is forbidden"}}))
	e.put("routes/methods", keyAuthRoute("/methods", up, map[string]any{}, map[string]any{
		"consumer-restriction": map[string]any{"allowed_by_methods": []any{map[string]any{"user": "jack1", "methods": []string{"POST"}}}}}))
	e.put("routes/noauth", route("/noauth", up, map[string]any{"plugins": map[string]any{
		"consumer-restriction": map[string]any{"whitelist": []string{"jack1"}}}}))

	expectStatus(t, e.get("/white", "apikey: key-jack1"), 200)
	expectBody(t, e.get("/white", "apikey: key-jack2"), 403, `{"message":"The consumer_name is forbidden."}`+"\n")
	expectBody(t, e.get("/black", "apikey: key-jack1"), 403, `{"message":"The consumer_name is forbidden."}`+"\n")
	expectStatus(t, e.get("/black", "apikey: key-jack2"), 200)
	expectBody(t, e.get("/msg", "apikey: key-jack2"), 401, `{"message":"request is forbidden"}`+"\n")
	expectBody(t, e.do("GET", "/methods", "apikey: key-jack1"), 403, `{"message":"The consumer_name is forbidden."}`+"\n")
	expectStatus(t, e.do("POST", "/methods", "apikey: key-jack1"), 200)
	expectStatus(t, e.do("GET", "/methods", "apikey: key-jack2"), 200) // users not listed pass
	expectBody(t, e.get("/noauth"), 401, `{"message":"The request is rejected, please check the consumer_name for this request"}`+"\n")
	// key-auth runs first: an unknown key never reaches the whitelist.
	expectBody(t, e.get("/white", "apikey: nope"), 401, `{"message":"Invalid API key in request"}`+"\n")

	// Approving a subscription adds the consumer to the whitelist: it works at once.
	e.put("routes/white", keyAuthRoute("/white", up, map[string]any{}, map[string]any{
		"consumer-restriction": map[string]any{"whitelist": []string{"jack1", "jack2"}}}))
	expectStatus(t, e.get("/white", "apikey: key-jack2"), 200)
	// Revoking removes it at once.
	e.put("routes/white", keyAuthRoute("/white", up, map[string]any{}, map[string]any{
		"consumer-restriction": map[string]any{"whitelist": []string{"jack1"}}}))
	expectStatus(t, e.get("/white", "apikey: key-jack2"), 403)
}

func TestConsumerRestrictionByRouteAndServiceID(t *testing.T) {
	e := newEnv(t)
	_, up := echoUpstream(t, "a")
	e.put("services/s1", map[string]any{"upstream": map[string]any{"nodes": []any{up}}})
	e.put("routes/r1", map[string]any{"uri": "/r1", "service_id": "s1", "plugins": map[string]any{
		"consumer-restriction": map[string]any{"type": "service_id", "whitelist": []string{"s2"}}}})
	expectBody(t, e.get("/r1"), 403, `{"message":"The service_id is forbidden."}`+"\n")
	e.put("routes/r2", map[string]any{"uri": "/r2", "service_id": "s1", "plugins": map[string]any{
		"consumer-restriction": map[string]any{"type": "route_id", "whitelist": []string{"r2"}}}})
	expectStatus(t, e.get("/r2"), 200)
}
