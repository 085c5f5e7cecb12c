# ruff: noqa: F821
# nbgrader in a course image, outside the platform: the exchange is the hub's ngshare service (users are told
# apart by their JupyterHub token, so students never see each other's submissions, whatever the NFS export's
# all_squash). On the platform's hubs this file is replaced by the hub's own (singleuser.extraFiles, mounted
# at the same path), which names that hub's ngshare Service: nothing to configure here.
import ngshare_exchange

c = get_config()
ngshare_exchange.configureExchange(c, "http://ngshare:8080/services/ngshare")
