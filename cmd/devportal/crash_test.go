package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// process is the real devportal binary (this test binary in main mode).
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	log    *syncBuffer
}

func spawn(t *testing.T, args, token string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DEVPORTAL_TEST_MAIN=1", "DEVPORTAL_TEST_ARGS="+args,
		"DEVPORTAL_ADMIN_TOKEN="+token, "DATABASE_URL=", "ETCD_ENDPOINTS=")
	p := &process{cmd: cmd, exited: make(chan struct{}), log: &syncBuffer{}}
	cmd.Stderr, cmd.Stdout = p.log, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *process) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// A process killed with SIGKILL in the middle of publishing leaves no mixed
// version in etcd: after a restart (and the reconciliation it runs), every
// key of the service carries the one version the database says is live.
func TestSIGKILLMidPublishLeavesOneVersion(t *testing.T) {
	const token = "crash-admin-token-0123456789"
	dir := t.TempDir()
	listen, etcdURL := freeAddr(t), "http://"+freeAddr(t)
	args := fmt.Sprintf("--data-dir %s --listen %s --etcd-listen %s --etcd-peer-listen http://%s --gateway-listen %s --no-gateway",
		dir, listen, etcdURL, freeAddr(t), freeAddr(t))
	base := "http://" + listen
	p := spawn(t, args, token)
	waitHealthy(t, base, func() (error, bool) { return nil, isClosed(p.exited) })

	routes := make([]string, 50)
	for i := range routes {
		routes[i] = fmt.Sprintf(`{"name":"r%d","paths":["/r%d/*"]}`, i, i)
	}
	status, body := get(t, "POST", base+"/api/v1/service_templates", token,
		`{"name":"crash","upstream":{"nodes":[{"host":"127.0.0.1","port":1}]},"routes":[`+strings.Join(routes, ",")+`]}`)
	if status != 201 {
		t.Fatalf("template: %d %s", status, body)
	}
	var tpl struct{ ID string }
	json.Unmarshal([]byte(body), &tpl)

	for round := 0; round < 3; round++ {
		// Publish versions back to back, and kill the process among them.
		var published atomic.Int32
		stop := make(chan struct{})
		go func() {
			for v := 0; ; v++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", base+"/api/v1/service_templates/"+tpl.ID+"/publish",
					strings.NewReader(fmt.Sprintf(`{"gateway_group_id":"default","version":"r%d-v%d"}`, round, v)))
				req.Header.Set("X-API-KEY", token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // killed
				}
				resp.Body.Close()
				published.Add(1)
			}
		}()
		deadline := time.Now().Add(30 * time.Second)
		for published.Load() < int32(3+round*2) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(3+round*7) * time.Millisecond)
		p.kill() // SIGKILL
		close(stop)
		if published.Load() == 0 {
			t.Fatalf("round %d: nothing was published before the kill\n%s", round, p.log.String())
		}

		p = spawn(t, args, token)
		waitHealthy(t, base, func() (error, bool) { return nil, isClosed(p.exited) })
		// The database's live version, and no drift once the start-up
		// reconciliation has run.
		var live struct {
			Version string
			Routes  []struct{ ID string }
		}
		deadline = time.Now().Add(60 * time.Second)
		for {
			status, body = get(t, "GET", base+"/api/v1/gateway_groups/default/drift", token, "")
			var rep struct{ Drift []any }
			json.Unmarshal([]byte(body), &rep)
			if status == 200 && len(rep.Drift) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: drift stays after restart: %d %s", round, status, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
		status, body = get(t, "GET", base+"/api/v1/gateway_groups/default/services/"+tpl.ID, token, "")
		if status != 200 {
			t.Fatalf("round %d: service: %d %s", round, status, body)
		}
		json.Unmarshal([]byte(body), &live)
		versions := etcdVersions(t, etcdURL)
		if len(versions) != 52 { // 50 routes, the service, its upstream
			t.Fatalf("round %d: %d keys in etcd, want 52", round, len(versions))
		}
		for key, v := range versions {
			if v != live.Version {
				t.Fatalf("round %d: %s runs %q, the database says %q", round, key, v, live.Version)
			}
		}
		t.Logf("round %d: killed after %d publishes; %s live everywhere", round, published.Load(), live.Version)
	}
}

// etcdVersions reads the version label of every object under /apisix.
func etcdVersions(t *testing.T, endpoint string) map[string]string {
	t.Helper()
	cli, ctx := etcdClient(t, []string{endpoint})
	out := map[string]string{}
	for _, dir := range []string{"/apisix/routes/", "/apisix/services/", "/apisix/upstreams/"} {
		resp, err := cli.Get(ctx, dir, clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range resp.Kvs {
			var v struct{ Labels map[string]string }
			json.Unmarshal(kv.Value, &v)
			out[string(kv.Key)] = v.Labels["version"]
		}
	}
	return out
}

// etcdClient is a client of endpoints and a context bounding its calls,
// both closed when the test ends.
func etcdClient(t *testing.T, endpoints []string) (*clientv3.Client, context.Context) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return cli, ctx
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// A process killed with SIGKILL in the middle of approvals and revocations
// leaves the portal and etcd agreeing after restart: the route's whitelist
// is exactly the applications whose subscriptions the database says are
// approved, and there is no drift.
func TestSIGKILLMidApprovalsLeavesPortalAndEtcdAgreeing(t *testing.T) {
	const token = "crash-admin-token-9876543210"
	dir := t.TempDir()
	listen, etcdURL := freeAddr(t), "http://"+freeAddr(t)
	args := fmt.Sprintf("--data-dir %s --listen %s --etcd-listen %s --etcd-peer-listen http://%s --gateway-listen %s --no-gateway",
		dir, listen, etcdURL, freeAddr(t), freeAddr(t))
	p := spawn(t, args, token)
	base := "http://" + listen
	waitHealthy(t, base, func() (error, bool) { return nil, isClosed(p.exited) })
	api := adminAPI{t: t, base: base + "/api/v1", token: token}

	tpl := api.must(201, "POST", "/service_templates", `{"name":"subs","upstream":{"nodes":[{"host":"127.0.0.1","port":1}]},"routes":[{"name":"r","paths":["/r"]}]}`)
	svc := api.must(200, "POST", "/service_templates/"+tpl["id"].(string)+"/publish", `{"gateway_group_id":"default","version":"1"}`)
	routeID := svc["routes"].([]any)[0].(map[string]any)["id"].(string)
	portalAPI := api.must(201, "POST", "/portal/apis", fmt.Sprintf(`{"gateway_group_id":"default","service_id":%q,"route_id":%q,
		"name":"Subs","auth":"key-auth","approval":"manual"}`, svc["id"], routeID))
	api.must(200, "POST", "/portal/apis/"+portalAPI["id"].(string)+"/publish", "")
	org := api.must(201, "POST", "/organizations", `{"name":"crashers"}`)
	const n = 60
	subs := make([]string, n)
	for i := range subs {
		app := api.must(201, "POST", "/organizations/"+org["id"].(string)+"/applications", fmt.Sprintf(`{"name":"app%d"}`, i))
		s := api.must(201, "POST", "/subscriptions", fmt.Sprintf(`{"application_id":%q,"api_id":%q}`, app["id"], portalAPI["id"]))
		subs[i] = s["id"].(string)
	}

	// Approve every one, and revoke every third, from four clients at once;
	// kill the process while they run.
	var done atomic.Int32
	for w := 0; w < 4; w++ {
		go func() {
			for i := w; i < n; i += 4 {
				for _, action := range []string{"approve", "revoke"} {
					if action == "revoke" && i%3 != 0 {
						continue
					}
					req, _ := http.NewRequest("POST", base+"/api/v1/subscriptions/"+subs[i]+"/"+action, strings.NewReader(`{"reason":"test"}`))
					req.Header.Set("X-API-KEY", token)
					req.Header.Set("Content-Type", "application/json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return // killed
					}
					resp.Body.Close()
					done.Add(1)
				}
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for done.Load() < n/3 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	p.kill() // SIGKILL
	if done.Load() == 0 {
		t.Fatalf("nothing was approved before the kill\n%s", p.log.String())
	}

	p = spawn(t, args, token)
	waitHealthy(t, base, func() (error, bool) { return nil, isClosed(p.exited) })
	deadline = time.Now().Add(60 * time.Second)
	for {
		pending := api.must(200, "GET", "/outbox", "")["pending"].(float64)
		drift := api.must(200, "GET", "/gateway_groups/default/drift", "")["drift"].([]any)
		if pending == 0 && len(drift) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %v changes pending, drift %v", pending, drift)
		}
		time.Sleep(100 * time.Millisecond)
	}
	approved := api.must(200, "GET", "/subscriptions?status=approved&limit=500", "")["list"].([]any)
	want := map[string]bool{}
	for _, s := range approved {
		want["app_"+s.(map[string]any)["application_id"].(string)] = true
	}
	got := map[string]bool{}
	for _, name := range whitelist(t, []string{etcdURL}, "/apisix/routes/"+routeID) {
		if name != "devportal:nobody" {
			got[name] = true
		}
	}
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("whitelist %v, the database's approved applications %v", got, want)
	}
	t.Logf("killed after %d of %d actions; %d approved, whitelist agrees", done.Load(), n+n/3, len(want))
}
