package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
	"github.com/gopherscope/gopherscope/internal/testfixture"
)

const (
	// probeEvery is how often the config scenario asks the webhook which
	// interval it injects.
	probeEvery = 200 * time.Millisecond
	// configSettle is how long after a write the old config may still be
	// in use: the watcher's debounce and the file events' delivery.
	configSettle = 2 * time.Second
	// Log messages of config.Watcher, counted in the webhook's log.
	reloadedMessage = "reloaded the config file"
	rejectedMessage = "rejected the new config file"
)

// invalidConfigs are rewrites the webhook must reject, in turn.
var invalidConfigs = []struct{ why, content string }{
	{"interval below the minimum", "apiVersion: gopherscope.io/v1alpha1\nkind: InjectionConfig\ninterval: 100ms\n"},
	{"not YAML", "interval: [10s\n"},
	{"an unknown field", "apiVersion: gopherscope.io/v1alpha1\nkind: InjectionConfig\nintervall: 20s\n"},
}

// intervalArg finds the sidecar's --interval argument in a patch.
var intervalArg = regexp.MustCompile(`"--` + sidecarconf.FlagInterval + `=([^"]+)"`)

// configChurn rewrites the config file every period, alternating valid
// files (a new interval each time) and invalid ones, while a probe asks the
// webhook which interval it injects.
type configChurn struct {
	webhook *rig.Webhook
	every   time.Duration

	mu       sync.Mutex
	writes   []configWrite
	seen     []observation
	probeErr []error
	logStart int
	logEnd   []byte
}

type configWrite struct {
	at       time.Time
	valid    bool
	why      string
	interval string // the interval in effect after this write
}

type observation struct {
	at       time.Time
	interval string
}

func (c *configChurn) run(ctx context.Context) {
	if log, err := c.webhook.Log(); err == nil {
		c.logStart = len(log)
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.probe(ctx) })
	current := config.DefaultInterval.String()
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			// Leave the webhook as it was.
			_ = c.webhook.WriteConfig(rig.ConfigWithInterval(config.DefaultInterval))
			if log, err := c.webhook.Log(); err == nil && len(log) >= c.logStart {
				c.logEnd = log[c.logStart:]
			}
			return
		case <-tick.C:
		}
		w := configWrite{at: time.Now(), valid: i%2 == 0, interval: current}
		var content []byte
		if w.valid {
			w.interval = fmt.Sprintf("%ds", 11+i/2)
			w.why = "interval " + w.interval
			content = fmt.Appendf(nil, "apiVersion: %s\nkind: %s\ninterval: %s\n", config.APIVersion, config.Kind, w.interval)
			current = w.interval
		} else {
			bad := invalidConfigs[(i/2)%len(invalidConfigs)]
			w.why, content = bad.why, []byte(bad.content)
		}
		if err := c.webhook.WriteConfig(content); err != nil {
			c.mu.Lock()
			c.probeErr = append(c.probeErr, err)
			c.mu.Unlock()
			continue
		}
		c.mu.Lock()
		c.writes = append(c.writes, w)
		c.mu.Unlock()
	}
}

// probe sends an injection request every probeEvery and records the
// interval of the sidecar it would inject.
func (c *configChurn) probe(ctx context.Context) {
	reqs, err := loadgen.Requests("probe", testfixture.TypicalPod(rig.NamespaceInject), true)
	if err != nil {
		c.mu.Lock()
		c.probeErr = append(c.probeErr, err)
		c.mu.Unlock()
		return
	}
	client := loadgen.NewClient(c.webhook.Target(), nil)
	defer client.Close()
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ans, err := client.Send(ctx, reqs[0], false)
		if err != nil && ctx.Err() != nil {
			return // the run ended during the request
		}
		c.mu.Lock()
		if err == nil {
			var patch []byte
			patch, err = ans.Patch()
			if m := intervalArg.FindStringSubmatch(string(patch)); err == nil && m != nil {
				c.seen = append(c.seen, observation{at: time.Now(), interval: m[1]})
			} else if err == nil {
				err = fmt.Errorf("no --%s in the patch", sidecarconf.FlagInterval)
			}
		}
		if err != nil {
			c.probeErr = append(c.probeErr, err)
		}
		c.mu.Unlock()
	}
}

func (c *configChurn) checks(*loadgen.Result) []check {
	c.mu.Lock()
	defer c.mu.Unlock()
	var valid, invalid int
	var wrong []string
	for i, w := range c.writes {
		if w.valid {
			valid++
		} else {
			invalid++
		}
		prev := config.DefaultInterval.String()
		if i > 0 {
			prev = c.writes[i-1].interval
		}
		next := time.Now()
		if i+1 < len(c.writes) {
			next = c.writes[i+1].at
		}
		tookEffect := false
		for _, o := range c.seen {
			if o.at.Before(w.at) || !o.at.Before(next) {
				continue
			}
			settled := o.at.After(w.at.Add(configSettle))
			switch {
			case o.interval == w.interval:
				tookEffect = true
			case !settled && o.interval == prev:
			default:
				wrong = append(wrong, fmt.Sprintf("%.1fs after writing %s the webhook injected --interval=%s, want %s",
					o.at.Sub(w.at).Seconds(), w.why, o.interval, w.interval))
			}
		}
		if w.valid && !tookEffect {
			wrong = append(wrong, fmt.Sprintf("writing %s never took effect", w.why))
		}
	}
	reloaded, rejected := bytes.Count(c.logEnd, []byte(reloadedMessage)), bytes.Count(c.logEnd, []byte(rejectedMessage))
	return []check{
		{what: "valid configs took effect, invalid ones were rejected and the last good one kept",
			ok:     valid > 0 && invalid > 0 && len(wrong) == 0 && len(c.probeErr) == 0,
			detail: fmt.Sprintf("%d valid and %d invalid writes, %d probes; problems: %q; probe errors: %v", valid, invalid, len(c.seen), wrong, c.probeErr)},
		{what: "the webhook logged each reload and each rejection",
			// The restoring write at the end may be logged or not yet.
			ok:     rejected == invalid && (reloaded == valid || reloaded == valid+1),
			detail: fmt.Sprintf("log: %d %q, %d %q; wrote %d valid, %d invalid", reloaded, reloadedMessage, rejected, rejectedMessage, valid, invalid)},
	}
}
