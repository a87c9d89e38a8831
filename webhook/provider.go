package webhook

import (
	"sync"
	"sync/atomic"

	"github.com/gopherscope/gopherscope/config"
)

// ConfigProvider hands the current injection configuration to the handler.
// Hot reload replaces the whole value with Store, and the diagnostics CA
// reader sets the bundle with SetDiagnosticsCA; requests read the
// combination with Load, without a lock. A stored config is never modified
// afterwards.
type ConfigProvider struct {
	// mu serialises Store and SetDiagnosticsCA, which combine stored and
	// diagnosticsCA into current.
	mu            sync.Mutex
	stored        *config.Config
	diagnosticsCA string
	current       atomic.Pointer[config.Config]
}

// NewConfigProvider returns a provider holding cfg.
func NewConfigProvider(cfg *config.Config) *ConfigProvider {
	p := &ConfigProvider{}
	p.Store(cfg)
	return p
}

// Load returns the current configuration, its DiagnosticsCA the bundle last
// given to SetDiagnosticsCA. Callers must not modify it.
func (p *ConfigProvider) Load() *config.Config { return p.current.Load() }

// Store makes cfg the current configuration, with the provider's
// diagnostics CA bundle in place of its own. The caller gives up cfg: it
// must not modify it afterwards.
func (p *ConfigProvider) Store(cfg *config.Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stored = cfg
	p.publish()
}

// SetDiagnosticsCA makes bundle (as config.ParseDiagnosticsCA returns it; ""
// for none) the DiagnosticsCA of the current configuration and of those
// stored later.
func (p *ConfigProvider) SetDiagnosticsCA(bundle string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.diagnosticsCA = bundle
	p.publish()
}

// publish makes the stored configuration with the bundle the current one.
// The stored value is shared, never modified: a copy carries the bundle.
func (p *ConfigProvider) publish() {
	cfg := p.stored
	if cfg == nil {
		return
	}
	if cfg.DiagnosticsCA != p.diagnosticsCA {
		withCA := *cfg
		withCA.DiagnosticsCA = p.diagnosticsCA
		cfg = &withCA
	}
	p.current.Store(cfg)
}
