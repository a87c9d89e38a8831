package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-cmp/cmp"
)

// appServer starts the app handler; its knobs are turned back at cleanup.
func appServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv, _ := appServerWithExits(t)
	return srv
}

// appServerWithExits is appServer that also returns where POST /exit sends its code.
func appServerWithExits(t *testing.T) (*httptest.Server, <-chan int) {
	t.Helper()
	var k Knobs
	exits := make(chan int, 1)
	srv := httptest.NewServer(NewAppHandler(&k, exits, testr.New(t)))
	t.Cleanup(func() { srv.Close(); k.StopAll() })
	return srv, exits
}

func TestExitKnobAsksRunToExitWithTheCodeOnce(t *testing.T) {
	srv, exits := appServerWithExits(t)
	for _, bad := range []string{"", "x", "-1", "126"} {
		if code, body := call(t, http.MethodPost, srv.URL+"/exit?code="+bad); code != http.StatusBadRequest || body["error"] == nil {
			t.Errorf("POST /exit?code=%s: %d %v, want 400 with an error", bad, code, body)
		}
	}
	if code, body := call(t, http.MethodPost, srv.URL+"/exit?code=3"); code != http.StatusOK || body["exiting"] != 3.0 {
		t.Fatalf("POST /exit?code=3: %d %v, want 200 {exiting: 3}", code, body)
	}
	if code, _ := call(t, http.MethodPost, srv.URL+"/exit?code=4"); code != http.StatusBadRequest {
		t.Errorf("a second POST /exit while the first is pending: %d, want 400", code)
	}
	if got := <-exits; got != 3 {
		t.Errorf("exit code sent: %d, want 3", got)
	}
}

// call sends method url and decodes the JSON answer into a map.
func call(t *testing.T, method, url string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if resp.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, raw, err)
		}
	}
	return resp.StatusCode, body
}

func self(t *testing.T, srv *httptest.Server) Self {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/self")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var s Self
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGoroutineKnobMovesTheCount(t *testing.T) {
	srv := appServer(t)
	before := self(t, srv).Goroutines

	status, body := call(t, http.MethodPost, srv.URL+"/goroutines?n=500")
	if diff := cmp.Diff(map[string]any{"started": 500.0, "parked": 500.0}, body); status != 200 || diff != "" {
		t.Fatalf("POST /goroutines?n=500 = %d (-want +got):\n%s", status, diff)
	}
	_, body = call(t, http.MethodPost, srv.URL+"/goroutines?n=250")
	if diff := cmp.Diff(map[string]any{"started": 250.0, "parked": 750.0}, body); diff != "" {
		t.Fatalf("second POST (-want +got):\n%s", diff)
	}
	if got := self(t, srv).Goroutines - before; got < 745 || got > 755 {
		t.Errorf("goroutines rose by %d after parking 750, want 750±5", got)
	}

	_, body = call(t, http.MethodDelete, srv.URL+"/goroutines")
	if diff := cmp.Diff(map[string]any{"stopped": 750.0}, body); diff != "" {
		t.Fatalf("DELETE /goroutines (-want +got):\n%s", diff)
	}
	if got := self(t, srv).Goroutines - before; got < -5 || got > 5 {
		t.Errorf("goroutines differ by %d from before after stopping all, want 0±5", got)
	}
}

func TestAllocKnobMovesTheHeap(t *testing.T) {
	const mib = 1 << 20
	srv := appServer(t)
	runtime.GC()
	before := self(t, srv)

	status, body := call(t, http.MethodPost, srv.URL+"/alloc?bytes=64MiB&keep=true")
	if diff := cmp.Diff(map[string]any{"allocated": 64.0 * mib, "keep": true, "kept": 64.0 * mib}, body); status != 200 || diff != "" {
		t.Fatalf("POST /alloc keep (-want +got):\n%s", diff)
	}
	call(t, http.MethodPost, srv.URL+"/gc")
	kept := self(t, srv)
	// The kept 64 MiB is one span; the GC may free a few MiB of other spans
	// meanwhile (CI saw 62.25 MiB of growth), so the floor leaves 4 MiB.
	if grew := int64(kept.HeapInuse) - int64(before.HeapInuse); grew < 60*mib {
		t.Errorf("heap in use grew by %d bytes with 64 MiB kept, want at least 60 MiB", grew)
	}

	_, body = call(t, http.MethodPost, srv.URL+"/alloc?bytes=32MiB")
	if diff := cmp.Diff(map[string]any{"allocated": 32.0 * mib, "keep": false, "kept": 64.0 * mib}, body); diff != "" {
		t.Fatalf("POST /alloc garbage (-want +got):\n%s", diff)
	}
	_, body = call(t, http.MethodDelete, srv.URL+"/alloc")
	if diff := cmp.Diff(map[string]any{"released": 64.0 * mib}, body); diff != "" {
		t.Fatalf("DELETE /alloc (-want +got):\n%s", diff)
	}
	_, body = call(t, http.MethodPost, srv.URL+"/gc")
	if body["numGC"].(float64) <= float64(kept.NumGC) {
		t.Errorf("POST /gc answered numGC %v, want more than %d", body["numGC"], kept.NumGC)
	}
	after := self(t, srv)
	if got := after.TotalAlloc - before.TotalAlloc; got < 96*mib {
		t.Errorf("total allocated grew by %d bytes, want at least 96 MiB", got)
	}
	if freed := int64(kept.HeapAlloc) - int64(after.HeapAlloc); freed < 60*mib {
		t.Errorf("heap alloc fell by %d bytes after release and GC, want at least 60 MiB", freed)
	}
}

func TestKnobsRefuseBadInput(t *testing.T) {
	srv := appServer(t)
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantError          string
	}{
		{"a missing goroutine count", "POST", "/goroutines", 400, `parameter n "": want a number of goroutines`},
		{"a word for a goroutine count", "POST", "/goroutines?n=many", 400, `parameter n "many"`},
		{"zero goroutines", "POST", "/goroutines?n=0", 400, "want 1 to 100000 per request"},
		{"too many goroutines at once", "POST", "/goroutines?n=100001", 400, "want 1 to 100000 per request"},
		{"a missing size", "POST", "/alloc", 400, "parameter bytes"},
		{"a size of zero", "POST", "/alloc?bytes=0", 400, "allocate 0 bytes: want 1 to"},
		{"a size over a GiB", "POST", "/alloc?bytes=2GiB", 400, "allocate 2147483648 bytes"},
		{"an unknown unit", "POST", "/alloc?bytes=3furlongs", 400, `unknown unit "furlongs"`},
		{"a keep that is not a boolean", "POST", "/alloc?bytes=1&keep=maybe", 400, `parameter keep "maybe"`},
		{"a missing leak rate", "POST", "/leak", 400, `parameter rate "": want a number of goroutines per second`},
		{"a leak rate of zero", "POST", "/leak?rate=0", 400, "leak 0 goroutines per second: want 1 to 10000"},
		{"a leak rate over the bound", "POST", "/leak?rate=10001", 400, "want 1 to 10000"},
		{"a growth without a rate", "POST", "/grow?up-to=1MiB", 400, "parameter rate"},
		{"a growth without a total", "POST", "/grow?rate=1MiB", 400, "parameter up-to"},
		{"a growth rate of zero", "POST", "/grow?rate=0&up-to=1MiB", 400, "grow by 0 bytes per second: want 1 to"},
		{"a growth rate over a GiB per second", "POST", "/grow?rate=2GiB&up-to=1MiB", 400, "grow by 2147483648 bytes per second"},
		{"a growth total over 4 GiB", "POST", "/grow?rate=1MiB&up-to=5GiB", 400, "grow up to 5368709120 bytes: want 1 to 4294967296"},
		{"a churn without a rate", "POST", "/gc-churn", 400, "parameter rate"},
		{"a churn rate over a GiB per second", "POST", "/gc-churn?rate=2GiB", 400, "churn 2147483648 bytes per second"},
		{"a churn live set in furlongs", "POST", "/gc-churn?rate=1MiB&live=3furlongs", 400, `parameter live: parse size "3furlongs"`},
		{"a churn live set over a GiB", "POST", "/gc-churn?rate=1MiB&live=2GiB", 400, "hold a live set of 2147483648 bytes"},
		{"GET on leak", "GET", "/leak", 405, ""},
		{"PUT on grow", "PUT", "/grow", 405, ""},
		{"GET on a knob", "GET", "/goroutines", 405, ""},
		{"PUT on alloc", "PUT", "/alloc", 405, ""},
		{"GET on gc", "GET", "/gc", 405, ""},
		{"POST on self", "POST", "/self", 405, ""},
		{"an unknown path", "GET", "/debug/vars", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			status, body := call(t, tt.method, srv.URL+tt.path)
			if status != tt.wantStatus {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, status, tt.wantStatus)
			}
			if got, _ := body["error"].(string); !strings.Contains(got, tt.wantError) {
				t.Errorf("%s %s error = %q, want it to contain %q", tt.method, tt.path, got, tt.wantError)
			}
		})
	}
	if got := self(t, srv).HeapInuse; got > 1<<30 {
		t.Errorf("heap in use is %d after refused requests, want nothing allocated", got)
	}
}

func TestSelfReportsThisProcess(t *testing.T) {
	srv := appServer(t)
	runtime.GC()
	status, _ := call(t, http.MethodGet, srv.URL+"/healthz")
	if status != 200 {
		t.Errorf("GET /healthz = %d, want 200", status)
	}
	s := self(t, srv)
	if s.PID != os.Getpid() || s.GOMAXPROCS != runtime.GOMAXPROCS(0) {
		t.Errorf("pid, gomaxprocs = %d, %d; want %d, %d", s.PID, s.GOMAXPROCS, os.Getpid(), runtime.GOMAXPROCS(0))
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"at least one GC ran", s.NumGC >= 1 && s.PauseTotalNs > 0},
		{"the stop-the-world total is positive and under a minute", s.STWPauseSecondsTotal > 0 && s.STWPauseSecondsTotal < 60},
		{"heap sys >= heap in use >= heap alloc > 0", s.HeapSys >= s.HeapInuse && s.HeapInuse >= s.HeapAlloc && s.HeapAlloc > 0},
		{"mallocs >= frees", s.Mallocs >= s.Frees && s.Mallocs > 0},
		{"total allocated >= heap alloc", s.TotalAlloc >= s.HeapAlloc},
		{"some goroutines and threads run", s.Goroutines > 1 && s.Threads > 1},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("want %s; got %+v", c.what, s)
		}
	}
}
