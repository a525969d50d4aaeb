"""Stand-ins for the cert-manager and Kyverno controllers on the local control plane.

The sandbox has their real CRDs (lab/kube/crds.py) and kube-controller-manager (namespaces, garbage collection,
Deployments, ...), but no cert-manager or Kyverno controller, so nothing would ever become Ready and a
``pulumi up`` that awaits Certificates would hang. ``FakeControllers`` does the visible part of their job:

- Issuers/ClusterIssuers: Ready (a ``ca`` issuer only once its key-pair Secret exists);
- Certificates: issues a real key and certificate (cryptography) with the requested subject, DNS names, IPs,
  URIs, e-mails, duration, key algorithm and ``isCA``, signed as the issuer would (``selfSigned``: by itself;
  ``ca``: by the issuer's CA Secret; any other kind: by a fake CA of this instance), writes the
  ``kubernetes.io/tls`` Secret (``tls.crt``, ``tls.key``, ``ca.crt``) and sets Ready=True on the status;
- Kyverno ClusterPolicies and Policies: Ready=True with the rule counts.

Use ``reconcile_once()``, or ``start()``/``stop()`` (or ``with``) for a background loop, or
``python -m lab controllers --kubeconfig F [--once]``. It talks to the API server with plain ``requests`` and the
kubeconfig's client certificate. Each controller is its own module: ``cert_manager.py``, ``kyverno.py``;
``certs.py`` issues the certificates.
"""

from lab.controllers.runner import FakeControllers

__all__ = ["FakeControllers"]
