"""Real controllers beside the local control plane (lab/kube), which has their CRDs but runs none of them.

- ``cert_manager.py``: cert-manager's own controller (our main over the cert-manager module's controller packages,
  ``scripts/build-tools certmanager``): Issuers, Certificates and CertificateRequests are issued and marked Ready
  by cert-manager itself;
- ``kyverno_admission.py``: Kyverno's admission controller as the API server's mutating webhook;
- ``runner.py``: ``Controllers`` starts, checks and stops controller processes (``ControllerSpec``), logs in files;
- ``cli.py``: ``python -m lab controllers --kubeconfig F --state-dir D`` runs cert-manager's controller in the
  foreground.
"""

from lab.controllers.cert_manager import cert_manager, find_cert_manager
from lab.controllers.runner import ControllerExited, Controllers, ControllerSpec

__all__ = ["ControllerExited", "ControllerSpec", "Controllers", "cert_manager", "find_cert_manager"]
