package webhook

import (
	"sync/atomic"

	"github.com/gopherscope/gopherscope/config"
)

// ConfigProvider hands the current injection configuration to the handler.
// Hot reload replaces the whole value with Store; requests read it with Load,
// without a lock. A stored config is never modified afterwards.
type ConfigProvider struct {
	current atomic.Pointer[config.Config]
}

// NewConfigProvider returns a provider holding cfg.
func NewConfigProvider(cfg *config.Config) *ConfigProvider {
	p := &ConfigProvider{}
	p.Store(cfg)
	return p
}

// Load returns the current configuration. Callers must not modify it.
func (p *ConfigProvider) Load() *config.Config { return p.current.Load() }

// Store makes cfg the current configuration. The caller gives up cfg: it
// must not modify it afterwards.
func (p *ConfigProvider) Store(cfg *config.Config) { p.current.Store(cfg) }
