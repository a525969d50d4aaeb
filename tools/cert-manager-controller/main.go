// Command cert-manager-controller runs cert-manager's own controllers for the sandbox and the e2e tests.
//
// cert-manager's cmd/controller is a module of its own that the module proxy does not serve, so this main wires
// the public packages of the main module github.com/cert-manager/cert-manager instead: the controller context
// factory (pkg/controller) and the controllers that issue the harbor-cache chain (self-signed Issuer -> CA
// Certificate -> CA Issuer -> leaf Certificate): Issuers, ClusterIssuers, the six Certificate controllers, the
// CertificateRequest approver and the CA and self-signed CertificateRequest issuers. Each controller package
// registers itself with pkg/controller when imported; only the ones imported below run (no ACME, Vault or
// Venafi, no Ingress/Gateway shims, no CertificateSigningRequests).
//
// Leader election is off (one instance per API server) and no metrics or health server is started.
// scripts/build-tools certmanager builds it against CERT_MANAGER_VERSION.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"

	"k8s.io/klog/v2"

	"github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"

	// Issuer implementations, looked up by the issuers controllers and the CertificateRequest issuers.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"

	// Controllers; each registers itself in controller.Known().
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server (required)")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "kube-system",
		"namespace of the Secrets that ClusterIssuers refer to (cert-manager's default)")
	namespace := flag.String("namespace", "", "watch only this namespace (default: all)")
	workers := flag.Int("workers", 5, "workers per controller")
	readyFile := flag.String("ready-file", "", "write this file once the informer caches have synced")
	klog.InitFlags(flag.CommandLine)
	flag.Parse()
	if *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "cert-manager-controller: --kubeconfig is required")
		os.Exit(2)
	}
	logf.InitLogs()
	defer logf.FlushLogs()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *kubeconfig, *namespace, *clusterResourceNamespace, *workers, *readyFile); err != nil {
		klog.ErrorS(err, "cert-manager-controller failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, namespace, clusterResourceNamespace string, workers int,
	readyFile string) error {
	ctx = logf.NewContext(ctx, logf.Log, "controller")
	log := logf.FromContext(ctx)
	log.Info("starting", "version", util.VersionInfo().GitVersion, "namespace", namespace,
		"clusterResourceNamespace", clusterResourceNamespace)

	factory, err := controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
		Namespace:          namespace,
		IssuerOptions:      controller.IssuerOptions{ClusterResourceNamespace: clusterResourceNamespace},
	})
	if err != nil {
		return fmt.Errorf("building the controller context: %w", err)
	}

	names := make([]string, 0, len(controller.Known()))
	for name := range controller.Known() {
		names = append(names, name)
	}
	sort.Strings(names)
	loops := make(map[string]controller.Interface, len(names))
	for _, name := range names {
		loop, err := controller.Known()[name](factory)
		if err != nil {
			return fmt.Errorf("constructing controller %s: %w", name, err)
		}
		loops[name] = loop
	}

	// The controllers registered their informers while being constructed; start them now. Every Context a
	// factory builds shares the same informer factories.
	shared, err := factory.Build()
	if err != nil {
		return fmt.Errorf("building the informer context: %w", err)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())

	// One failed loop (e.g. its caches never synced) stops them all, as cert-manager's own main exits then.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(loops))
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func(name string, loop controller.Interface) {
			defer wg.Done()
			if err := loop.Run(workers, ctx); err != nil {
				errs <- fmt.Errorf("controller %s: %w", name, err)
				cancel()
			}
		}(name, loops[name])
	}
	log.Info("controllers started", "controllers", names)
	if readyFile != "" {
		go signalReady(ctx, shared, readyFile)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	log.Info("control loops exited")
	return nil
}

// signalReady writes readyFile once every informer the controllers asked for has synced, so whoever started this
// process knows the controllers act on what they see from then on.
func signalReady(ctx context.Context, shared *controller.Context, readyFile string) {
	var unsynced []string
	for kind, ok := range shared.SharedInformerFactory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			unsynced = append(unsynced, kind.String())
		}
	}
	for kind, ok := range shared.KubeSharedInformerFactory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			unsynced = append(unsynced, kind)
		}
	}
	if len(unsynced) > 0 {
		klog.ErrorS(nil, "informer caches did not sync", "kinds", unsynced)
		return
	}
	if err := os.WriteFile(readyFile, []byte("ready\n"), 0o644); err != nil {
		klog.ErrorS(err, "writing the ready file", "path", readyFile)
		return
	}
	logf.FromContext(ctx).Info("informer caches synced", "readyFile", readyFile)
}
