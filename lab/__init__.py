"""The lab: a whole harbor-cache sandbox on one machine, for people (``scripts/sandbox``), tests and benchmarks.

``components/`` is the product that `pulumi up` deploys; ``lab/`` is everything it is tried against here:

- ``kube``: a local etcd, kube-apiserver and kube-controller-manager (``scripts/kube-local``), and the real
  cert-manager and Kyverno CRDs from the Go module cache;
- ``controllers``: cert-manager's controller and Kyverno's admission controller beside the local control plane;
- ``testbed``: network-namespace nodes with sshd + containerd, an upstream registry and Harbor's pull path;
- ``harbor_double``: a Harbor API double that follows Harbor's swagger;
- ``sandbox``: all of the above together for the ``sandbox`` stack (README's first command);
- ``engine``, ``project``: running the Pulumi engine on a temp copy of the program.

One command line for all of it: ``python -m lab --help``. The sandbox's public SSH key is in ``lab/files``; the
real Harbor charts are used where they are, in ``../shared/charts`` (``lab.paths.harbor_chart``).
"""
