package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// rotationSeenWithin is how long before the end of the run a rotated
// certificate must have been issued to count as one the clients must see:
// the webhook's certificate watcher and the clients' reconnects take a
// moment.
const rotationSeenWithin = 3 * time.Second

// rotation writes a new serving certificate (same CA, new key and serial)
// over the webhook's files every period, as the kubelet updates a
// cert-manager Secret volume.
type rotation struct {
	webhook *rig.Webhook
	every   time.Duration

	mu     sync.Mutex
	start  time.Time
	end    time.Time
	issued []issued
	errs   []error
}

type issued struct {
	serial string
	at     time.Time
}

func (r *rotation) run(ctx context.Context) {
	r.start = time.Now()
	tick := time.NewTicker(r.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.end = time.Now()
			return
		case <-tick.C:
		}
		s, err := r.webhook.RotateCertificate()
		r.mu.Lock()
		if err != nil {
			r.errs = append(r.errs, err)
		} else {
			r.issued = append(r.issued, issued{serial: s.Serial, at: time.Now()})
		}
		r.mu.Unlock()
	}
}

func (r *rotation) checks(res *loadgen.Result) []check {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, c := range res.Certificates {
		seen[c.Serial] = true
	}
	var must, missing []string
	for _, is := range r.issued {
		if is.at.Before(r.end.Add(-rotationSeenWithin)) {
			must = append(must, is.serial)
			if !seen[is.serial] {
				missing = append(missing, is.serial)
			}
		}
	}
	var perCert []string
	for _, c := range res.Certificates {
		perCert = append(perCert, fmt.Sprintf("%d@%.1fs", c.Handshakes, c.FirstSeen.Seconds()))
	}
	return []check{
		{what: "certificates rotated", ok: len(r.errs) == 0 && len(r.issued) >= 2,
			detail: fmt.Sprintf("%d rotations, errors %v", len(r.issued), r.errs)},
		{what: "clients saw every rotated certificate", ok: len(must) > 0 && len(missing) == 0,
			detail: fmt.Sprintf("%d certificates seen over %d handshakes (handshakes@first seen: %s); %d of %d rotated before the last %s were not seen: %s",
				len(res.Certificates), res.Handshakes, strings.Join(perCert, " "), len(missing), len(must), rotationSeenWithin, strings.Join(missing, ", "))},
	}
}
