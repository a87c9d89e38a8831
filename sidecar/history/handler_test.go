package history

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func get(t *testing.T, h http.Handler, method string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, "/api/v1/history", nil))
	return rec
}

func decode(t *testing.T, resp *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return body
}

func TestHandlerServesTheJSONShape(t *testing.T) {
	r := New(360)
	r.Add(Point{
		Time: t0, Goroutines: f(12), Threads: f(9), HeapInuseBytes: f(4096),
		HeapAllocBytes: f(2048), HeapSysBytes: f(8192), AllocBytesTotal: f(1000), GCCount: f(3),
		GCPauseQuantiles: &[5]float64{1e-5, 2e-5, 3e-5, 4e-5, 5e-5}, TargetUp: true,
	})
	r.Add(Point{Time: t0.Add(10 * time.Second)}) // target down: no values
	resp := get(t, Handler(r, 10*time.Second, WithPod("shop", "cart-7d9f")), http.MethodGet)

	if resp.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.Code)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"} {
		if got := resp.Header().Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	want := map[string]any{
		"interval": "10s", "intervalSeconds": 10.0, "capacity": 360.0,
		"pod": "cart-7d9f", "namespace": "shop",
		"points": []any{
			map[string]any{
				"t": "2025-11-26T13:00:00Z", "goroutines": 12.0, "threads": 9.0,
				"heapInuseBytes": 4096.0, "heapAllocBytes": 2048.0, "heapSysBytes": 8192.0,
				"allocBytesTotal": 1000.0, "gcCount": 3.0,
				"gcPauseQuantiles": []any{1e-5, 2e-5, 3e-5, 4e-5, 5e-5}, "targetUp": true,
			},
			map[string]any{"t": "2025-11-26T13:00:10Z", "targetUp": false},
		},
	}
	if diff := cmp.Diff(want, decode(t, resp)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestHandlerServesAnEmptyRingAsAnEmptyList(t *testing.T) {
	resp := get(t, Handler(New(5), time.Second), http.MethodGet)
	body := resp.Body.String()
	want := `{"interval":"1s","intervalSeconds":1,"capacity":5,"points":[]}`
	if got := body; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestHandlerDerivesTheAllocationRate(t *testing.T) {
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	tests := []struct {
		name   string
		points []Point
		want   []any // allocRateBytesPerSecond per point; nil = absent
	}{
		{
			name: "consecutive counters give bytes per second",
			points: []Point{
				{Time: at(0), AllocBytesTotal: f(1000)},
				{Time: at(10), AllocBytesTotal: f(11000)},
				{Time: at(20), AllocBytesTotal: f(11000)},
				{Time: at(25), AllocBytesTotal: f(16000)},
			},
			want: []any{nil, 1000.0, 0.0, 1000.0},
		},
		{
			name: "a restart breaks the series",
			points: []Point{
				{Time: at(0), AllocBytesTotal: f(50000)},
				{Time: at(10), AllocBytesTotal: f(60000)},
				{Time: at(20), AllocBytesTotal: f(70000), Restarted: true},
				{Time: at(30), AllocBytesTotal: f(90000)},
			},
			want: []any{nil, 1000.0, nil, 2000.0},
		},
		{
			name: "a counter going down without a restart flag gives no rate",
			points: []Point{
				{Time: at(0), AllocBytesTotal: f(50000)},
				{Time: at(10), AllocBytesTotal: f(100)},
			},
			want: []any{nil, nil},
		},
		{
			name: "a missing counter on either side gives no rate",
			points: []Point{
				{Time: at(0), AllocBytesTotal: f(0)},
				{Time: at(10)},
				{Time: at(20), AllocBytesTotal: f(20000)},
				{Time: at(30), AllocBytesTotal: f(30000)},
			},
			want: []any{nil, nil, nil, 1000.0},
		},
		{
			name: "points at the same instant give no rate",
			points: []Point{
				{Time: at(0), AllocBytesTotal: f(0)},
				{Time: at(0), AllocBytesTotal: f(20000)},
			},
			want: []any{nil, nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(len(tt.points))
			for _, p := range tt.points {
				r.Add(p)
			}
			body := decode(t, get(t, Handler(r, 10*time.Second), http.MethodGet))
			var got []any
			for _, p := range body["points"].([]any) {
				got = append(got, p.(map[string]any)["allocRateBytesPerSecond"])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("allocRateBytesPerSecond per point (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerMethods(t *testing.T) {
	tests := []struct {
		method     string
		wantStatus int
		wantBody   string // prefix
	}{
		{method: http.MethodGet, wantStatus: http.StatusOK, wantBody: `{"interval":"1s"`},
		{method: http.MethodHead, wantStatus: http.StatusOK},
		{method: http.MethodPost, wantStatus: http.StatusMethodNotAllowed, wantBody: "method not allowed"},
		{method: http.MethodPut, wantStatus: http.StatusMethodNotAllowed, wantBody: "method not allowed"},
		{method: http.MethodDelete, wantStatus: http.StatusMethodNotAllowed, wantBody: "method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" answers "+http.StatusText(tt.wantStatus), func(t *testing.T) {
			resp := get(t, Handler(New(1), time.Second), tt.method)
			if resp.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.Code, tt.wantStatus)
			}
			body := resp.Body.String()
			if !strings.HasPrefix(body, tt.wantBody) {
				t.Errorf("body = %q, want prefix %q", body, tt.wantBody)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed && resp.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q, want %q", resp.Header().Get("Allow"), "GET, HEAD")
			}
		})
	}
}

func BenchmarkHandler(b *testing.B) {
	r := New(360)
	for i := range 360 {
		p := goroutinesPoint(i)
		p.AllocBytesTotal, p.HeapInuseBytes = f(float64(i)*1e6), f(4<<20)
		p.GCPauseQuantiles = &[5]float64{1e-5, 2e-5, 3e-5, 4e-5, 5e-5}
		r.Add(p)
	}
	h := Handler(r, 10*time.Second)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/history", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
