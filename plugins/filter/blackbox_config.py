# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.homelab.stack.plugins.module_utils import blackbox
from ansible_collections.homelab.stack.plugins.plugin_utils import yaml_text

DOCUMENTATION = r"""
name: blackbox_config
short_description: The blackbox exporter's configuration file, the probe modules
version_added: 0.1.0
description:
  - Returns the text of C(blackbox.yml) with the modules the monitoring targets view's probes use; its input is
    ignored (call it on anything, e.g. C({})).
  - C(http_2xx) (routes with C(auth=none)) succeeds on any 2xx answer, following redirects.
  - C(http_sso) (routes with C(auth=sso)) succeeds only on what a route answers someone not signed in, without
    following redirects, C(302), C(303), C(307), C(401), C(403), C(500), C(502), C(503), C(504). A C(200) fails
    the probe (C(probe_success) 0 with C(probe_http_status_code) 200), as the route lets strangers in.
  - Both HTTP modules fail on plain HTTP and on a certificate not signed by a trusted CA (O(ca_file) when the
    edge's certificate comes from an internal CA); C(probe_ssl_earliest_cert_expiry) gives the certificate's expiry.
  - C(icmp) pings and C(tcp_connect) opens a TCP connection (the other site's node exporter, across the mesh).
  - Every module prefers IPv4 and falls back to IPv6. Only options that blackbox_exporter 0.23 and later accept
    are written.
options:
  _input:
    description: Not used.
    type: raw
    required: true
  ca_file:
    description: The CA certificate, as the exporter sees it, that signs the routes' certificates; unset, the
      system's CAs are trusted.
    type: str
seealso:
  - plugin: homelab.stack.prometheus_config
    plugin_type: filter
author: homelab.stack maintainers
"""

EXAMPLES = r"""
- name: Write blackbox.yml
  ansible.builtin.copy:
    content: "{{ {} | homelab.stack.blackbox_config(ca_file='/etc/blackbox_exporter/ca.pem') }}"
    dest: /etc/homelab/blackbox/blackbox.yml
    mode: "0644"

# gives, among the modules,
#   http_sso:
#     prober: http
#     http:
#       preferred_ip_protocol: ip4
#       fail_if_not_ssl: true
#       valid_status_codes: [302, 303, 307, 401, 403, 500, 502, 503, 504]
#       follow_redirects: false
#       tls_config: {ca_file: /etc/blackbox_exporter/ca.pem}
"""

RETURN = r"""
_value:
  description: The text of C(blackbox.yml), C(modules) C(http_2xx), C(http_sso), C(icmp) and C(tcp_connect).
  type: str
"""


def blackbox_config(_input=None, ca_file=None):
    """The filter: the modules as YAML text."""
    if ca_file is not None and (not isinstance(ca_file, str) or not ca_file.startswith("/")):
        raise AnsibleFilterError("blackbox_config: ca_file: must be an absolute path, got %r" % (ca_file,))
    return yaml_text.dump(blackbox.blackbox_config(ca_file=ca_file))


class FilterModule:
    """The blackbox_config filter."""

    def filters(self):
        return {"blackbox_config": blackbox_config}
