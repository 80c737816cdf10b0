package config

import (
	"runtime"
	"sync"

	"devportal/gateway/apisix"
	"devportal/gateway/dataplane/plugin"
)

// parallelMin is the batch size from which consumer values are decoded in
// parallel: a full load of many consumers (node start, relist) is dominated
// by JSON decoding and key decryption, which are independent per value.
const parallelMin = 1024

// decoded is a consumer value read ahead of Apply's sequential pass; the
// pass uses it exactly as if it had decoded the value itself (same errors,
// logged in event order), so the snapshot does not depend on the schedule.
type decoded struct {
	consumer *apisix.Consumer
	err      error // the decode or key-auth error, as event reports it
	key      string
	hasKey   bool
	keyErr   bool // the key is not ciphertext of the keyring: kept as stored, warned
}

// predecode decodes the consumers (not credentials) among events on every
// core when there are enough of them; nil otherwise.
func predecode(events []Event, prefix string, keyring *apisix.Keyring) []*decoded {
	if len(events) < parallelMin {
		return nil
	}
	out := make([]*decoded, len(events))
	workers := runtime.GOMAXPROCS(0)
	const chunk = 256
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				lo := next
				next += chunk
				mu.Unlock()
				if lo >= len(events) {
					return
				}
				for i := lo; i < min(lo+chunk, len(events)); i++ {
					ev := events[i]
					if pk, ok := apisix.ParseKey(prefix, ev.Key); ok && !ev.Delete &&
						pk.Kind == apisix.KindConsumers && pk.CredentialID == "" {
						out[i] = decodeConsumer(ev.Value, keyring)
					}
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// decodeConsumer reads a consumer value and its inline key-auth key.
func decodeConsumer(value []byte, keyring *apisix.Keyring) *decoded {
	d := &decoded{consumer: &apisix.Consumer{}}
	if d.err = decode(value, d.consumer); d.err != nil {
		return d
	}
	if raw, ok := d.consumer.Plugins["key-auth"]; ok {
		key, err := plugin.ParseKeyAuthCredential(raw)
		if err != nil {
			d.err = err
			return d
		}
		d.hasKey = true
		plain, err := keyring.Decrypt(key)
		if err != nil {
			d.key, d.keyErr = key, true
		} else {
			d.key = plain
		}
	}
	return d
}
