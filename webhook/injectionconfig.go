package webhook

import (
	"context"
	"slices"

	"github.com/go-logr/logr"

	"github.com/gopherscope/gopherscope/config"
)

// loadServerConfig reads the injection configuration, prepared for the API
// server's version, and returns its watcher when it comes from a file, and
// the API server's minor version.
func loadServerConfig(ctx context.Context, opts Options, log logr.Logger) (*ConfigProvider, *config.Watcher, int, error) {
	minor, err := serverMinorVersion(ctx, opts.RestConfig)
	if err != nil {
		return nil, nil, 0, err
	}
	prepare := func(cfg *config.Config) *config.Config { return prepareConfig(cfg, minor, opts) }
	provider, watcher, err := loadConfig(opts, prepare, log)
	if err != nil {
		return nil, nil, 0, err
	}
	cfg := provider.Load()
	log.Info("injection config loaded", "path", opts.ConfigPath, "serverMinor", minor,
		"nativeSidecar", cfg.NativeSidecar, "nativeSidecarBasis", cfg.NativeSidecarBasis, "strict", cfg.Strict, "excludedNamespaces", cfg.ExcludedNamespaces)
	return provider, watcher, minor, nil
}

// loadConfig reads the initial configuration and, for a file, prepares its
// hot reload: every new valid file goes through prepare into the provider.
func loadConfig(opts Options, prepare func(*config.Config) *config.Config, log logr.Logger) (*ConfigProvider, *config.Watcher, error) {
	if opts.ConfigPath == "" {
		return NewConfigProvider(prepare(config.Default(opts.Version))), nil, nil
	}
	provider := &ConfigProvider{}
	watcher := &config.Watcher{
		Path:    opts.ConfigPath,
		Version: opts.Version,
		Apply:   func(cfg *config.Config) { provider.Store(prepare(cfg)) },
		Log:     log.WithName("config"),
	}
	cfg, err := watcher.Load()
	if err != nil {
		return nil, nil, err
	}
	provider.Store(prepare(cfg))
	return provider, watcher, nil
}

// prepareConfig turns a configuration file's content into what the handler
// uses: nativeSidecar resolved for the API server's version (left to the
// handler where the oldest kubelet decides: config.NeedsKubeletVersion), the
// webhook's own namespace excluded, the injector's version set.
func prepareConfig(cfg *config.Config, serverMinor int, opts Options) *config.Config {
	out := cfg.DeepCopy()
	if !config.NeedsKubeletVersion(cfg.NativeSidecar, serverMinor) {
		out = cfg.ResolveNativeSidecarFor(serverMinor, config.UnknownKubelet)
	}
	if opts.Namespace != "" && !slices.Contains(out.ExcludedNamespaces, opts.Namespace) {
		out.ExcludedNamespaces = append(out.ExcludedNamespaces, opts.Namespace)
	}
	out.InjectorVersion = opts.Version
	return out
}
