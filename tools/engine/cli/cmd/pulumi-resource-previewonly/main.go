// Command pulumi-resource-previewonly is a PREVIEW-ONLY STAND-IN for the providers the Go module proxy
// does not serve here: build.sh installs it as `pulumi-resource-command`. (It stood in for
// `pulumi-resource-random` too until the program replaced pulumi_random by its own dynamic provider,
// components/common/generated_secret.py; the code is generic over the plugin's name.)
//
// Why a stand-in (a fake, by this project's rules, only for what cannot run here): the real providers
// are untagged submodules (github.com/pulumi/pulumi-command/provider, github.com/pulumi/pulumi-random/
// provider/v4) and the proxy refuses every version of them that was tried (the README lists the exact
// refusals). Without some `command` and `random` plugin the engine cannot run the program at all, so
// this stand-in lets `pulumi preview` run the real Python program, the real engine, the real kubernetes
// provider and the real dynamic providers, while everything behind these two packages is left to the
// engine's unknowns:
//   - Check accepts the inputs as given (no provider-side validation: that is what the real provider adds);
//   - Create in preview returns the inputs; every output the provider would compute (stdout, result,
//     ...) is absent, which the SDK shows as unknown, exactly as a first preview of the real one does;
//   - Create, Update and Delete outside preview REFUSE: nothing is ever executed or generated.
//
// The plugin's name and version come from its file name and PULUMI_PREVIEWONLY_VERSION_<NAME>
// (set by tools/e2e.sh from requirements.txt), so the engine sees the versions the program pins.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer
	name string
}

func (p *provider) refuse(what string) error {
	return status.Errorf(codes.FailedPrecondition,
		"pulumi-resource-%s here is a preview-only stand-in (the real provider is not served by the Go "+
			"module proxy): it cannot %s; install the real provider for `pulumi up`", p.name, what)
}

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	envName := "PULUMI_PREVIEWONLY_VERSION_" + strings.ToUpper(p.name)
	version := os.Getenv(envName)
	if version == "" {
		return nil, status.Errorf(codes.FailedPrecondition, "%s is not set", envName)
	}
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_UNKNOWN}, nil
}

func (p *provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *provider) Diff(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_UNKNOWN}, nil
}

func (p *provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if !req.GetPreview() {
		return nil, p.refuse("create " + req.GetType())
	}
	return &pulumirpc.CreateResponse{Properties: req.GetProperties()}, nil
}

func (p *provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if !req.GetPreview() {
		return nil, p.refuse("update " + req.GetType())
	}
	return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
}

func (p *provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return nil, p.refuse("delete " + req.GetType())
}

func (p *provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[len(os.Args)-1], "-") {
		// The engine passes its address last; exit when it goes away.
		if err := rpcutil.Healthcheck(ctx, os.Args[len(os.Args)-1], 5*time.Second, cancel); err != nil {
			fmt.Fprintf(os.Stderr, "error: engine health check: %v\n", err)
			os.Exit(1)
		}
	}
	done := make(chan bool)
	go func() { <-ctx.Done(); close(done) }()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: done,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, &provider{name: name})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: cannot serve the provider: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "error: provider stopped: %v\n", err)
		os.Exit(1)
	}
}
