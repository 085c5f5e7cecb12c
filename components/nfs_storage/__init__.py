"""NfsStorage: NFS server and clients, csi-driver-nfs, the retained StorageClass and static home volumes."""
