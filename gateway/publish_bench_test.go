package gateway

import (
	"fmt"
	"testing"

	"devportal/gateway/etcdstore"
	"devportal/internal/dbtest"
	"devportal/models"
)

// BenchmarkPublish50Routes publishes a new version of a 50-route service:
// one database transaction and one etcd transaction of 52 keys.
// Run: go test ./gateway -run '^$' -bench Publish50 -benchtime 200x
func BenchmarkPublish50Routes(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := dbtest.SQLite(b)
			if name == "postgres" {
				var ok bool
				if db, ok = dbtest.Postgres(b); !ok {
					b.Skip("DATABASE_URL is not PostgreSQL")
				}
			}
			var trips, attempts int
			fx := newFixture(b, db, func(s *Service) {
				s.applied = func(r etcdstore.Result) { trips += r.RoundTrips; attempts += r.Attempts }
			})
			spec := httpSpec("bench", "/r0")
			for i := 1; i < 50; i++ {
				spec.Routes = append(spec.Routes, models.RouteSpec{Name: fmt.Sprint("route", i), Paths: []string{fmt.Sprintf("/r%d/*", i)}})
			}
			tpl, err := fx.svc.CreateTemplate(fx.ctx, spec)
			if err != nil {
				b.Fatal(err)
			}
			trips, attempts = 0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := fx.svc.Publish(fx.ctx, tpl.ID, PublishInput{GatewayGroupID: fx.group.ID, Version: fmt.Sprint("v", i)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(trips)/float64(b.N), "etcd-round-trips/op")
			b.ReportMetric(float64(attempts)/float64(b.N), "etcd-txn-attempts/op")
		})
	}
}
