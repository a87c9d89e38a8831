package app

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-cmp/cmp"
	"github.com/google/pprof/profile"
)

// knobServer starts the app handler on k; its knobs are turned back at cleanup.
func knobServer(t *testing.T, k *Knobs) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewAppHandler(k, make(chan int, 1), testr.New(t)))
	t.Cleanup(func() { srv.Close(); k.StopAll() })
	return srv
}

// eventually polls cond every 20ms until it holds, failing after a
// deadline long enough for a loaded machine.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestLeakKnobLeaksGoroutinesInANamedFunctionUntilDeleteLetsThemExit(t *testing.T) {
	var k Knobs
	srv := knobServer(t, &k)
	call(t, http.MethodGet, srv.URL+"/healthz") // the connection's goroutines are counted before
	before := runtime.NumGoroutine()

	began := time.Now()
	status, body := call(t, http.MethodPost, srv.URL+"/leak?rate=200")
	if diff := cmp.Diff(map[string]any{"rate": 200.0, "leaked": 0.0}, body); status != 200 || diff != "" {
		t.Fatalf("POST /leak?rate=200 = %d (-want +got):\n%s", status, diff)
	}
	// The leaker's own count, and as many more goroutines: the count of all
	// of them alone can reach 100 with 99 leaked (CI saw it) when the HTTP
	// server adds one of its own.
	eventually(t, "100 goroutines to leak", func() bool {
		_, n := k.Leak.Leaking()
		return n >= 100 && runtime.NumGoroutine()-before >= 100
	})
	_, leaked := k.Leak.Leaking()
	if most := int64(200*time.Since(began).Seconds()) + 1; leaked > most {
		t.Errorf("%d goroutines leaked at 200/s in %s, want at most %d", leaked, time.Since(began), most)
	}
	var profile bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&profile, 1); err != nil {
		t.Fatal(err)
	}
	if want := "cmd/demo-app/internal/app.leakedRequest+"; !strings.Contains(profile.String(), want) {
		t.Errorf("the goroutine profile has no frame %q:\n%.2000s", want, profile.String())
	}

	status, body = call(t, http.MethodPost, srv.URL+"/leak?rate=1000")
	if status != 200 || body["rate"] != 1000.0 || body["leaked"].(float64) < 100 {
		t.Errorf("a second POST /leak?rate=1000 = %d %v, want the new rate and the goroutines leaked so far", status, body)
	}
	if rate, _ := k.Leak.Leaking(); rate != 1000 {
		t.Errorf("leaking at %d/s after the second POST, want 1000", rate)
	}

	status, body = call(t, http.MethodDelete, srv.URL+"/leak")
	if status != 200 || body["stopped"].(float64) < 100 {
		t.Fatalf("DELETE /leak = %d %v, want at least 100 stopped", status, body)
	}
	eventually(t, "the leaked goroutines to exit", func() bool { return runtime.NumGoroutine()-before <= 5 })
	if rate, leaked := k.Leak.Leaking(); rate != 0 || leaked != 0 {
		t.Errorf("Leaking() after DELETE = %d/s, %d leaked; want 0, 0", rate, leaked)
	}
}

func TestLeakHoldsAtItsCap(t *testing.T) {
	l := Leaker{limit: 50}
	defer l.Stop()
	if _, err := l.Start(maxLeakRate); err != nil {
		t.Fatal(err)
	}
	eventually(t, "50 goroutines to leak", func() bool { _, n := l.Leaking(); return n >= 50 })
	time.Sleep(300 * time.Millisecond) // 3,000 more are due at this rate
	if _, n := l.Leaking(); n != 50 {
		t.Errorf("%d goroutines leaked with a cap of 50, want 50", n)
	}
	if n := l.Stop(); n != 50 {
		t.Errorf("Stop() = %d, want 50", n)
	}
}

func TestGrowKnobKeepsUpToTheTotalThenHoldsUntilDelete(t *testing.T) {
	const mib = 1 << 20
	var k Knobs
	srv := knobServer(t, &k)
	kept := func() int64 { _, _, n := k.Growth.Growing(); return n }

	status, body := call(t, http.MethodPost, srv.URL+"/grow?rate=64MiB/s&up-to=20MiB")
	if diff := cmp.Diff(map[string]any{"rate": 64.0 * mib, "upTo": 20.0 * mib, "kept": 0.0}, body); status != 200 || diff != "" {
		t.Fatalf("POST /grow = %d (-want +got):\n%s", status, diff)
	}
	eventually(t, "20 MiB to be kept", func() bool { return kept() >= 20*mib })
	time.Sleep(300 * time.Millisecond) // 19 MiB more would be due at this rate
	if got := kept(); got != 20*mib {
		t.Errorf("kept %d bytes growing up to 20 MiB, want exactly 20 MiB", got)
	}
	if heap := self(t, srv).HeapAlloc; heap < 20*mib {
		t.Errorf("heap alloc is %d bytes with 20 MiB kept, want at least that", heap)
	}

	status, body = call(t, http.MethodPost, srv.URL+"/grow?rate=64MiB&up-to=24MiB")
	if status != 200 || body["kept"] != 20.0*mib {
		t.Errorf("a second POST /grow = %d %v, want it to carry on from the 20 MiB kept", status, body)
	}
	eventually(t, "24 MiB to be kept", func() bool { return kept() >= 24*mib })
	if call(t, http.MethodPost, srv.URL+"/grow?rate=1MiB&up-to=8MiB"); kept() != 24*mib {
		t.Errorf("kept %d bytes after asking for 8 MiB with 24 MiB kept, want the 24 MiB held", kept())
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	held := ms.HeapSys - ms.HeapReleased
	status, body = call(t, http.MethodDelete, srv.URL+"/grow")
	if status != 200 || body["released"] != 24.0*mib {
		t.Fatalf("DELETE /grow = %d %v, want 24 MiB released", status, body)
	}
	runtime.ReadMemStats(&ms)
	if fell := int64(held) - int64(ms.HeapSys-ms.HeapReleased); fell < 20*mib {
		t.Errorf("the heap held from the OS fell by %d bytes after DELETE /grow, want at least 20 MiB returned", fell)
	}
	if rate, upTo, n := k.Growth.Growing(); rate != 0 || upTo != 0 || n != 0 {
		t.Errorf("Growing() after DELETE = %d, %d, %d; want zeros", rate, upTo, n)
	}
}

func TestGCChurnKnobRunsTheGCUntilDelete(t *testing.T) {
	const mib = 1 << 20
	var k Knobs
	srv := knobServer(t, &k)
	before := self(t, srv)

	status, body := call(t, http.MethodPost, srv.URL+"/gc-churn?rate=64MiB/s&live=4MiB")
	if diff := cmp.Diff(map[string]any{"rate": 64.0 * mib, "live": 4.0 * mib}, body); status != 200 || diff != "" {
		t.Fatalf("POST /gc-churn = %d (-want +got):\n%s", status, diff)
	}
	eventually(t, "32 MiB of garbage and 3 GCs", func() bool {
		s := self(t, srv)
		return s.TotalAlloc-before.TotalAlloc >= 32*mib && s.NumGC-before.NumGC >= 3
	})
	if heap := self(t, srv).HeapAlloc; heap < 4*mib {
		t.Errorf("heap alloc is %d bytes around a 4 MiB live set, want at least that", heap)
	}

	if _, body = call(t, http.MethodPost, srv.URL+"/gc-churn?rate=32MiB"); body["live"] != 16.0*mib {
		t.Errorf("POST /gc-churn without live = %v, want the default 16 MiB live set", body)
	}
	if rate, live := k.GCChurn.Churning(); rate != 32*mib || live != 16*mib {
		t.Errorf("churning %d bytes/s around %d after the second POST, want 32 MiB/s around 16 MiB", rate, live)
	}
	status, body = call(t, http.MethodDelete, srv.URL+"/gc-churn")
	if diff := cmp.Diff(map[string]any{"stopped": 32.0 * mib}, body); status != 200 || diff != "" {
		t.Fatalf("DELETE /gc-churn = %d (-want +got):\n%s", status, diff)
	}
	if _, body = call(t, http.MethodDelete, srv.URL+"/gc-churn"); body["stopped"] != 0.0 {
		t.Errorf("a second DELETE /gc-churn = %v, want 0 stopped", body)
	}
	after := self(t, srv).TotalAlloc
	time.Sleep(300 * time.Millisecond) // 9.6 MiB would be due at 32 MiB/s
	if got := self(t, srv).TotalAlloc - after; got > 4*mib {
		t.Errorf("%d bytes allocated in 300 ms after DELETE /gc-churn, want the churn stopped", got)
	}
}

func TestStartKnobsTurnsTheKnobsTheFlagsSet(t *testing.T) {
	var k Knobs
	defer k.StopAll()
	opts := DefaultOptions()
	opts.LeakRate, opts.GrowRate, opts.GrowUpTo, opts.GCChurnRate = 5, 1<<20, 2<<20, 3<<20
	if err := startKnobs(&k, opts); err != nil {
		t.Fatal(err)
	}
	leak, _ := k.Leak.Leaking()
	growRate, growUpTo, _ := k.Growth.Growing()
	churn, live := k.GCChurn.Churning()
	got := []int64{int64(leak), int64(growRate), int64(growUpTo), int64(churn), int64(live)}
	if diff := cmp.Diff([]int64{5, 1 << 20, 2 << 20, 3 << 20, int64(DefaultGCChurnLive)}, got); diff != "" {
		t.Errorf("leak, grow rate, up to, churn rate, live (-want +got):\n%s", diff)
	}
}

// TestBurnKnobPutsBurnCPUInACPUProfile: while /burn runs, a CPU profile of
// the process spends most of its samples in BurnCPU; DELETE stops it.
func TestBurnKnobPutsBurnCPUInACPUProfile(t *testing.T) {
	var k Knobs
	srv := knobServer(t, &k)
	for _, bad := range []string{"", "0", "65", "x"} {
		if status, _ := call(t, http.MethodPost, srv.URL+"/burn?goroutines="+bad); status != http.StatusBadRequest {
			t.Errorf("POST /burn?goroutines=%s = %d, want 400", bad, status)
		}
	}
	status, body := call(t, http.MethodPost, srv.URL+"/burn?goroutines=1")
	if diff := cmp.Diff(map[string]any{"goroutines": 1.0}, body); status != 200 || diff != "" {
		t.Fatalf("POST /burn = %d (-want +got):\n%s", status, diff)
	}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	pprof.StopCPUProfile()
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var total, burning int64
	for _, s := range p.Sample {
		total += s.Value[0]
		for _, loc := range s.Location {
			if len(loc.Line) > 0 && strings.HasSuffix(loc.Line[0].Function.Name, ".BurnCPU") {
				burning += s.Value[0]
				break
			}
		}
	}
	if total == 0 || burning*2 < total {
		t.Errorf("BurnCPU has %d of %d CPU samples; want most of them", burning, total)
	}
	if _, body = call(t, http.MethodDelete, srv.URL+"/burn"); body["stopped"] != 1.0 {
		t.Errorf("DELETE /burn = %v, want 1 stopped", body)
	}
}
