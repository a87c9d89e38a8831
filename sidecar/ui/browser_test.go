package ui

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/sidecar/history"
)

const chromiumPath = "/usr/bin/chromium"

var installChromium sync.Once

// chromium returns Debian's Chromium, installing it with apt-get when it is
// missing and the test runs as root.
func chromium(t *testing.T) string {
	t.Helper()
	installChromium.Do(func() {
		if _, err := os.Stat(chromiumPath); err == nil || os.Geteuid() != 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		aptGet := func(args ...string) error {
			cmd := exec.CommandContext(ctx, "apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, out)
			}
			return nil
		}
		t.Logf("installing chromium with apt-get (%s is missing)", chromiumPath)
		if err := aptGet("install", "-y", "-q", "chromium"); err != nil {
			t.Logf("%v; updating the package lists and retrying", err)
			if err := aptGet("update", "-q"); err != nil {
				t.Log(err)
			} else if err := aptGet("install", "-y", "-q", "chromium"); err != nil {
				t.Log(err)
			}
		}
	})
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the page test needs headless Chromium at %s: install it with `apt-get install -y chromium` "+
			"(the test does so itself only when run as root; .ci/run does it too): %v", chromiumPath, err)
	}
	return chromiumPath
}

// runChromium loads url in headless Chromium with the extra flags and
// returns its standard output.
func runChromium(t *testing.T, url string, extra ...string) string {
	t.Helper()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=5000",
	}, extra...)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium(t), append(args, url)...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\nstderr:\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

// sidecarPages serves the page and a history handler like the sidecar's mux,
// under prefix (as kubectl proxy would show them).
func sidecarPages(t *testing.T, r *history.Ring, prefix string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", Handler())
	mux.Handle("/api/v1/history", history.Handler(r, seriesInterval, history.WithPod("shop", "cart-7d9f-x2")))
	var h http.Handler = mux
	if prefix != "" {
		h = http.StripPrefix(prefix, mux)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// renderedChart is what the DOM dump says about one chart.
type renderedChart struct {
	Points int            // the section's data-points
	Paths  map[string]int // series name -> M/L commands in its path
}

var (
	sectionTag = regexp.MustCompile(`<section id="chart-(\w+)"[^>]*?data-points="(\d+)"[^>]*>`)
	pathTag    = regexp.MustCompile(`<path class="series[^"]*" d="([^"]*)" data-points="\d+" data-series="([^"]+)"`)
)

// charts parses the dumped DOM, chart by chart.
func charts(t *testing.T, dom string) map[string]renderedChart {
	t.Helper()
	out := map[string]renderedChart{}
	starts := sectionTag.FindAllStringSubmatchIndex(dom, -1)
	for i, s := range starts {
		end := len(dom)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		n, _ := strconv.Atoi(dom[s[4]:s[5]])
		c := renderedChart{Points: n, Paths: map[string]int{}}
		for _, p := range pathTag.FindAllStringSubmatch(dom[s[0]:end], -1) {
			c.Paths[p[2]] = strings.Count(p[1], "M") + strings.Count(p[1], "L")
		}
		out[dom[s[2]:s[3]]] = c
	}
	return out
}

func TestBrowserRendersEveryChartWithItsPoints(t *testing.T) {
	ring := realisticRing(time.Now().Truncate(time.Second))
	srv := sidecarPages(t, ring, "")
	dom := runChromium(t, srv.URL+"/", "--dump-dom")

	rated := history.Rate(ring.Points())
	count := func(has func(history.RatedPoint) bool) int {
		n := 0
		for _, p := range rated {
			if has(p) {
				n++
			}
		}
		return n
	}
	up := count(func(p history.RatedPoint) bool { return p.Goroutines != nil })
	rates := count(func(p history.RatedPoint) bool { return p.AllocRateBytesPerSecond != nil })
	if up != seriesLen-4 || rates < seriesLen-8 {
		t.Fatalf("the fixture has %d up points and %d rates, want %d and about %d", up, rates, seriesLen-4, seriesLen-6)
	}
	want := map[string]renderedChart{
		"goroutines": {Points: up, Paths: map[string]int{"goroutines": up}},
		"heap":       {Points: up, Paths: map[string]int{"in use": up, "allocated": up}},
		"gc":         {Points: up, Paths: map[string]int{"min": up, "p25": up, "median": up, "p75": up, "max": up}},
		"alloc":      {Points: rates, Paths: map[string]int{"allocated": rates}},
	}
	if diff := cmp.Diff(want, charts(t, dom)); diff != "" {
		t.Errorf("charts in the DOM (-want +got):\n%s", diff)
	}
	last := rated[len(rated)-1]
	for _, s := range []string{
		`data-rendered="180"`,
		`<span id="pod">shop/cart-7d9f-x2</span>`,
		`class="badge up">app up</span>`,
		`every 10s · 180 of 360 samples (29.8 min)`,
		fmt.Sprintf(`<p class="value" id="v-goroutines">%.0f<small>`, *last.Goroutines),
		fmt.Sprintf(`<p class="value" id="v-heap">%.1f MiB<small>`, *last.HeapInuseBytes/mib),
		`class="band"`,    // the span where the app was down
		`class="restart"`, // and the restart after it
	} {
		if !strings.Contains(dom, s) {
			t.Errorf("the DOM lacks %s", s)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

func TestBrowserShowsTheEmptyStateBeforeTheFirstSample(t *testing.T) {
	dom := runChromium(t, sidecarPages(t, history.New(360), "").URL+"/", "--dump-dom")
	want := map[string]renderedChart{}
	for _, id := range []string{"goroutines", "heap", "gc", "alloc"} {
		want[id] = renderedChart{Points: 0, Paths: map[string]int{}}
	}
	if diff := cmp.Diff(want, charts(t, dom)); diff != "" {
		t.Errorf("charts in the DOM (-want +got):\n%s", diff)
	}
	for _, s := range []string{`data-rendered="0"`, "waiting for the first sample", "No samples yet: the first arrives within one interval (10s)."} {
		if !strings.Contains(dom, s) {
			t.Errorf("the DOM lacks %q", s)
		}
	}
}

func TestBrowserExplainsChartsTheAppCannotFill(t *testing.T) {
	at := time.Now().Add(-time.Minute)
	tests := []struct {
		name   string
		points []history.Point
		want   map[string]string // chart -> its message; "" = drawn
	}{
		{
			name: "a pprof-only app has goroutines and nothing else",
			points: []history.Point{
				{Time: at, Goroutines: ptr(12), Threads: ptr(7), TargetUp: true},
				{Time: at.Add(seriesInterval), Goroutines: ptr(14), Threads: ptr(7), TargetUp: true},
			},
			want: map[string]string{
				"goroutines": "", "heap": "do not report this", "gc": "do not report this", "alloc": "do not report this",
			},
		},
		{
			name:   "one sample is not enough for a rate",
			points: []history.Point{{Time: at, Goroutines: ptr(12), HeapInuseBytes: ptr(mib), AllocBytesTotal: ptr(5e6), TargetUp: true}},
			want: map[string]string{
				"goroutines": "", "heap": "", "gc": "do not report this", "alloc": "A rate needs two samples in a row",
			},
		},
		{
			name:   "an app that never answered",
			points: []history.Point{{Time: at}, {Time: at.Add(seriesInterval)}},
			want: map[string]string{
				"goroutines": "The app has not answered yet; retrying every 10s.", "heap": "The app has not answered yet",
				"gc": "The app has not answered yet", "alloc": "The app has not answered yet",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := history.New(10)
			for _, p := range tt.points {
				r.Add(p)
			}
			dom := runChromium(t, sidecarPages(t, r, "").URL+"/", "--dump-dom")
			for chart, msg := range tt.want {
				section := regexp.MustCompile(`(?s)<section id="chart-` + chart + `".*?</section>`).FindString(dom)
				empty := regexp.MustCompile(`<p class="empty( hidden)?">([^<]*)</p>`).FindStringSubmatch(section)
				switch {
				case empty == nil:
					t.Errorf("chart %s has no message element", chart)
				case msg == "" && (empty[1] == "" || !strings.Contains(section, `<path class="series`)):
					t.Errorf("chart %s shows %q, want it drawn", chart, empty[2])
				case msg != "" && (empty[1] != "" || !strings.Contains(empty[2], msg)):
					t.Errorf("chart %s shows %q (hidden=%t), want %q", chart, empty[2], empty[1] != "", msg)
				}
			}
		})
	}
}

func TestBrowserFindsTheHistoryUnderAProxyPrefix(t *testing.T) {
	const prefix = "/api/v1/namespaces/shop/pods/cart-7d9f-x2:9184/proxy"
	srv := sidecarPages(t, realisticRing(time.Now()), prefix)
	dom := runChromium(t, srv.URL+prefix+"/", "--dump-dom")
	if got := charts(t, dom)["goroutines"].Points; got != seriesLen-4 {
		t.Errorf("behind %s the goroutines chart has %d points, want %d", prefix, got, seriesLen-4)
	}
}

func TestBrowserScreenshotIsNotBlank(t *testing.T) {
	srv := sidecarPages(t, realisticRing(time.Now()), "")
	shot := filepath.Join(t.TempDir(), "page.png")
	runChromium(t, srv.URL+"/", "--screenshot="+shot, "--window-size=1280,900")
	t.Logf("screenshot: %s", shot)
	if dir := os.Getenv("GOPHERSCOPE_SCREENSHOT_DIR"); dir != "" { // keep a copy to look at
		if png, err := os.ReadFile(shot); err == nil && os.WriteFile(filepath.Join(dir, "page.png"), png, 0o600) == nil {
			t.Logf("screenshot kept: %s", filepath.Join(dir, "page.png"))
		}
	}

	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("screenshot is %dx%d, want 1280x900", b.Dx(), b.Dy())
	}
	if v := lumaVariance(img); v < 100 {
		t.Errorf("screenshot luma variance is %.1f, want at least 100 (is the page blank?)", v)
	}
	// Each chart's line colour (light theme) covers a visible number of pixels.
	for name, c := range map[string][3]int{"goroutines blue": {0x1f, 0x6f, 0xeb}, "heap purple": {0x82, 0x50, 0xdf}, "alloc orange": {0xbf, 0x57, 0x00}, "median blue": {0x1f, 0x5f, 0xbf}} {
		if n := pixelsNear(img, c, 40); n < 300 {
			t.Errorf("%d pixels of the %s line, want at least 300", n, name)
		}
	}
}

func lumaVariance(img image.Image) float64 {
	var sum, sq, n float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum, sq, n = sum+l, sq+l*l, n+1
		}
	}
	mean := sum / n
	return sq/n - mean*mean
}

func pixelsNear(img image.Image, c [3]int, dist int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			dr, dg, db := int(r>>8)-c[0], int(g>>8)-c[1], int(bl>>8)-c[2]
			if dr*dr+dg*dg+db*db <= dist*dist {
				n++
			}
		}
	}
	return n
}
