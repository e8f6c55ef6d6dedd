#!/usr/bin/env python3
"""image_mklayout.py — build OCI layouts and crafted layers for the image tests.

  image_mklayout.py layout OUT TAG [--gzip|--zstd] [--config-mt MT] [--layer-mt MT]
                    [--bad-diffid] [--drop-blob config|layer] [--huge-manifest] TAR...
      OCI layout at OUT with one image (ref.name TAG) whose layers are TARs.
  image_mklayout.py evil OUTDIR CANARY
      the corpus of malicious layer tars, one file per attack, aimed at CANARY.
  image_mklayout.py good OUT.tar
      a layer with whiteouts, an opaque dir, a hardlink, xattrs, modes, owners.
"""
import gzip, hashlib, io, json, os, shutil, subprocess, sys, tarfile


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def put_blob(out, data):
    d = sha(data)
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(out, "blobs", "sha256", d[7:]), "wb") as f:
        f.write(data)
    return d


def layout(argv):
    out, tag = argv[0], argv[1]
    opts = {"comp": None, "config_mt": "application/vnd.oci.image.config.v1+json",
            "layer_mt": None, "bad_diffid": False, "drop": None, "huge": False}
    tars = []
    i = 2
    while i < len(argv):
        a = argv[i]
        if a == "--gzip": opts["comp"] = "gzip"
        elif a == "--zstd": opts["comp"] = "zstd"
        elif a == "--config-mt": opts["config_mt"] = argv[i + 1]; i += 1
        elif a == "--layer-mt": opts["layer_mt"] = argv[i + 1]; i += 1
        elif a == "--bad-diffid": opts["bad_diffid"] = True
        elif a == "--drop-blob": opts["drop"] = argv[i + 1]; i += 1
        elif a == "--huge-manifest": opts["huge"] = True
        else: tars.append(a)
        i += 1
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    layers, diffids = [], []
    for t in tars:
        raw = open(t, "rb").read()
        diffids.append(sha(raw if not opts["bad_diffid"] else raw + b"x"))
        mt = "application/vnd.oci.image.layer.v1.tar"
        data = raw
        if opts["comp"] == "gzip":
            data = gzip.compress(raw); mt += "+gzip"
        elif opts["comp"] == "zstd":
            data = subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True, check=True).stdout
            mt += "+zstd"
        d = put_blob(out, data)
        if opts["drop"] == "layer":
            os.unlink(os.path.join(out, "blobs", "sha256", d[7:]))
        layers.append({"mediaType": opts["layer_mt"] or mt, "digest": d, "size": len(data)})
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diffids}}
    cb = json.dumps(config).encode()
    cd = put_blob(out, cb)
    if opts["drop"] == "config":
        os.unlink(os.path.join(out, "blobs", "sha256", cd[7:]))
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": opts["config_mt"], "digest": cd, "size": len(cb)},
                "layers": layers}
    if opts["huge"]:
        manifest["annotations"] = {"pad": "x" * (5 << 20)}
    mb = json.dumps(manifest).encode()
    md = put_blob(out, mb)
    idx = {"schemaVersion": 2, "manifests": [{"mediaType": manifest["mediaType"], "digest": md,
           "size": len(mb), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(idx, f)


def add(t, name, type_=tarfile.REGTYPE, data=b"", linkname="", mode=0o644, uid=0, gid=0,
        devmajor=0, devminor=0, pax=None):
    ti = tarfile.TarInfo(name)
    ti.type = type_
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.linkname = linkname
    ti.devmajor, ti.devminor = devmajor, devminor
    if pax:
        ti.pax_headers = pax
    if type_ == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)


def evil(outdir, canary):
    os.makedirs(outdir, exist_ok=True)
    c = canary.lstrip("/")
    depth = "../" * 20
    cases = {
        "absolute_path": [dict(name=f"/{c}/pwned", data=b"x")],
        "dotdot_path": [dict(name=f"{depth}{c}/pwned", data=b"x")],
        "dotdot_in_middle": [dict(name="a/b/../../../pwned", data=b"x")],
        "symlink_abs_then_write": [dict(name="link", type_=tarfile.SYMTYPE, linkname=canary),
                                   dict(name="link/pwned", data=b"x")],
        "symlink_rel_then_write": [dict(name="link", type_=tarfile.SYMTYPE, linkname=f"{depth}{c}"),
                                   dict(name="link/pwned", data=b"x")],
        "symlink_nested_then_write": [dict(name="d", type_=tarfile.DIRTYPE, mode=0o755),
                                      dict(name="d/root", type_=tarfile.SYMTYPE, linkname="/"),
                                      dict(name=f"d/root/{c}/pwned", data=b"x")],
        "symlink_then_dir": [dict(name="link", type_=tarfile.SYMTYPE, linkname=canary),
                             dict(name="link/sub", type_=tarfile.DIRTYPE, mode=0o755)],
        "hardlink_abs_outside": [dict(name="h", type_=tarfile.LNKTYPE, linkname=f"{canary}/target")],
        "hardlink_dotdot_outside": [dict(name="h", type_=tarfile.LNKTYPE, linkname=f"{depth}{c}/target")],
        "hardlink_through_symlink": [dict(name="s", type_=tarfile.SYMTYPE, linkname=canary),
                                     dict(name="h", type_=tarfile.LNKTYPE, linkname="s/target")],
        "char_device": [dict(name="dev/sda", type_=tarfile.CHRTYPE, devmajor=8, devminor=0)],
        "block_device": [dict(name="dev/sdb", type_=tarfile.BLKTYPE, devmajor=8, devminor=16)],
        "whiteout_dotdot": [dict(name="a/.wh..", data=b"")],
        "overlay_xattr": [dict(name="f", data=b"x",
                               pax={"SCHILY.xattr.trusted.overlay.redirect": "/etc"})],
    }
    for name, entries in cases.items():
        with tarfile.open(os.path.join(outdir, name + ".tar"), "w", format=tarfile.PAX_FORMAT) as t:
            for e in entries:
                add(t, **e)
    print("\n".join(sorted(cases)))


def good(out):
    """Lower layer + upper layer exercising whiteouts etc.; writes OUT.1.tar OUT.2.tar."""
    with tarfile.open(out + ".1.tar", "w", format=tarfile.PAX_FORMAT) as t:
        add(t, "etc", tarfile.DIRTYPE, mode=0o755)
        add(t, "etc/keep", data=b"keep")
        add(t, "etc/gone", data=b"gone")
        add(t, "opq", tarfile.DIRTYPE, mode=0o755)
        add(t, "opq/old", data=b"old")
        add(t, "bin", tarfile.DIRTYPE, mode=0o755)
        add(t, "bin/tool", data=b"#!/bin/sh\n", mode=0o4755, uid=0, gid=0)
    with tarfile.open(out + ".2.tar", "w", format=tarfile.PAX_FORMAT) as t:
        add(t, "etc/.wh.gone")
        add(t, "opq/new", data=b"new")
        add(t, "opq/.wh..wh..opq")
        add(t, "home", tarfile.DIRTYPE, mode=0o750, uid=1000, gid=1000)
        add(t, "home/file", data=b"hello", mode=0o640, uid=1000, gid=1001,
            pax={"SCHILY.xattr.user.note": "chain"})
        add(t, "home/hard", tarfile.LNKTYPE, linkname="home/file")
        add(t, "home/sym", tarfile.SYMTYPE, linkname="/etc/keep")
        add(t, "fifo", tarfile.FIFOTYPE, mode=0o600)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "layout": layout(sys.argv[2:])
    elif cmd == "evil": evil(sys.argv[2], sys.argv[3])
    elif cmd == "good": good(sys.argv[2])
    else: sys.exit("unknown command")
