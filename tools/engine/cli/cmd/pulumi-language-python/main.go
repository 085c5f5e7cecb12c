// Command pulumi-language-python is this project's Python language host for the Pulumi engine.
//
// Why our own: the upstream host lives in its own untagged Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) and the Go module proxy this
// project can reach refuses it ("This module version is not available", for the module list, @latest
// and every pseudo-version tried). The engine talks to a language host over the LanguageRuntime gRPC
// service, and a program run needs only a few of its calls, so this host implements those on the
// public packages of the sdk/v3 module (which is served) and runs the program with the sdk's own
// executor script `pulumi-language-python-exec`, installed beside this binary by tools/engine/build.sh.
//
// Implemented: Handshake, GetPluginInfo, GetRequiredPlugins/GetRequiredPackages (empty: the engine
// then loads each provider when the program first uses it, from PATH or the plugin cache), Run.
// Everything else (pulumi new/convert/package/install, `pulumi about` details, debugging, policy packs,
// type checkers) answers Unimplemented: the e2e tier does not use them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped by build.sh (-ldflags -X main.version=...) with the SDK version it was built against.
var version = "0.0.0-dev"

// userActionableExit is the exit status the executor uses after it already printed a readable error:
// the engine is told to bail without adding a second message.
const userActionableExit = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	executor      string
	engineAddress string
}

func (h *host) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// pythonOptions reads the runtime options of Pulumi.yaml (toolchain, virtualenv) that choose the interpreter.
func pythonOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	options := info.GetOptions().AsMap()
	if venv, ok := options["virtualenv"].(string); ok {
		opts.Virtualenv = venv
	}
	switch options["toolchain"] {
	case nil, "pip":
		opts.Toolchain = toolchain.Pip
	default:
		return opts, fmt.Errorf("this language host supports only the pip toolchain, not %v", options["toolchain"])
	}
	return opts, nil
}

// executorArgs are the executor's command-line flags, named as the executor script parses them.
func (h *host) executorArgs(req *pulumirpc.RunRequest) []string {
	args := []string{h.executor}
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, h.executorArgs(req)...)
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("serialising the stack configuration: %w", err)
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, fmt.Errorf("serialising the secret configuration keys: %w", err)
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second

	runErr := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(runErr, &exitErr):
		if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.ExitStatus() == userActionableExit {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d",
			exitErr.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the language executor: %v", runErr)}, nil
	}
}

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.String("tracing", "", "accepted for compatibility with the engine; tracing is not supported")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: cannot locate this executable: %v\n", err)
		os.Exit(1)
	}
	executor := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(executor); err != nil {
		fmt.Fprintf(os.Stderr, "error: missing executor %s (tools/engine/build.sh installs it): %v\n", executor, err)
		os.Exit(1)
	}
	h := &host{executor: executor}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if args := flag.Args(); len(args) > 0 {
		h.engineAddress = args[0]
		// Exit when the engine goes away, as every plugin must.
		if err := rpcutil.Healthcheck(ctx, h.engineAddress, 5*time.Second, cancel); err != nil {
			fmt.Fprintf(os.Stderr, "error: engine health check: %v\n", err)
			os.Exit(1)
		}
	}
	done := make(chan bool)
	go func() { <-ctx.Done(); close(done) }()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: done,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: cannot serve the language runtime: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port) // the engine reads the port from the first line
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "error: language runtime stopped: %v\n", err)
		os.Exit(1)
	}
}
