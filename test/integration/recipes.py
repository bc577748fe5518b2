#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""integration.recipes: the OpenWrt, Buildroot and Yocto recipes of
contrib/packaging/ cannot be built here (no such trees), so this checks
what can be checked without them:

* every REQUIRED find_package, pkg_check_modules, find_library and
  find_path of the build (not test/) has a row in
  contrib/packaging/dependencies, and every row is still required;
* each recipe names its cell of every row (DEPENDS, selects, inherit);
* each recipe turns the tests off (-DBUILD_TESTING=OFF: test/ needs
  cmocka) and declares /etc/sysupgraded.conf a conffile where its
  build system has them;
* every file of this tree that a recipe installs or runs exists;
* every file a recipe takes from the `cmake --install` output (prefix
  /usr) is in it: the build tree is installed into a scratch DESTDIR;
* the Yocto LIC_FILES_CHKSUM md5 is that of the lines it names.

  SU_TEST_SRC  test/;  SU_BUILD_DIR  the build tree;  SU_CMAKE  cmake
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

SRC = os.path.realpath(os.path.join(os.environ["SU_TEST_SRC"], ".."))
PKG = os.path.join(SRC, "contrib/packaging")
OPENWRT = os.path.join(PKG, "openwrt/Makefile")
BR_MK = os.path.join(PKG, "buildroot/sysupgraded/sysupgraded.mk")
BR_CONFIG = os.path.join(PKG, "buildroot/sysupgraded/Config.in")
YOCTO = os.path.join(PKG, "yocto/sysupgraded_git.bb")
CMAKE_FILES = ["CMakeLists.txt", "lib/CMakeLists.txt", "daemon/CMakeLists.txt",
               "tools/CMakeLists.txt", "flash-backends/CMakeLists.txt",
               "cmake/DeviceDeps.cmake"]
CMAKE_KEYWORDS = {"REQUIRED", "IMPORTED_TARGET", "GLOBAL", "QUIET", "NAMES",
                  "NO_CMAKE_PATH", "NO_DEFAULT_PATH"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


reported = 0


def ok(msg):
    """report MSG as passed unless a failure came since the last report"""
    global reported
    if len(failures) == reported:
        print("ok: " + msg)
    reported = len(failures)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def uncomment(text, mark="#"):
    return "\n".join(line.split(mark, 1)[0] for line in text.splitlines())


def joined(text):
    """text with backslash-continued lines joined"""
    return re.sub(r"\\\n", " ", text)


def cmake_requirements():
    """{'module:json-c', 'library:mtd', ...}: the REQUIRED look-ups"""
    reqs = set()
    call = re.compile(r"\b(find_package|pkg_check_modules|find_library|find_path)"
                      r"\s*\(([^)]*)\)", re.S)
    for rel in CMAKE_FILES:
        for fn, args in call.findall(uncomment(read(os.path.join(SRC, rel)))):
            words = args.split()
            if "REQUIRED" not in words:
                continue
            if fn == "find_package":
                reqs.add("package:" + words[0])
            elif fn == "pkg_check_modules":
                reqs.update("module:" + w for w in words[1:] if w not in CMAKE_KEYWORDS)
            else:
                names = [w for w in words[1:] if w not in CMAKE_KEYWORDS]
                kind = "library" if fn == "find_library" else "header"
                reqs.add(kind + ":" + names[0])
    return reqs


def dependency_table():
    rows = {}
    for line in uncomment(read(os.path.join(PKG, "dependencies"))).splitlines():
        cells = line.split()
        if not cells:
            continue
        if len(cells) != 4:
            fail("contrib/packaging/dependencies: not 4 columns: %r" % line)
            continue
        rows[cells[0]] = dict(openwrt=cells[1], buildroot=cells[2], yocto=cells[3])
    return rows


def assignment(text, var):
    """the words assigned (=, :=, +=) to VAR in make or bitbake text"""
    words = []
    for m in re.finditer(r"^\s*%s\s*(?:\+=|:=|\?\?=|\?=|=)\s*(.*)$" % re.escape(var),
                         joined(text), re.M):
        words += m.group(1).replace('"', " ").split()
    return words


def define_block(text, name):
    m = re.search(r"^define %s\n(.*?)^endef" % re.escape(name), text, re.M | re.S)
    return m.group(1) if m else ""


def check_openwrt(row, cell, text, deps):
    if cell.startswith("+"):
        if cell not in deps:
            fail("openwrt/Makefile: DEPENDS lacks %s (for %s): %s" % (cell, row, " ".join(deps)))
    elif cell.startswith("contrib/"):
        if "$(PKG_BUILD_DIR)/" + cell not in text:
            fail("openwrt/Makefile does not run %s (for %s)" % (cell, row))
    elif not cell.startswith("="):
        fail("dependencies: OpenWrt cell %r of %s is neither +package, a tree file nor =why" % (cell, row))


def br_symbol(pkg):
    return "BR2_PACKAGE_" + re.sub(r"[^A-Z0-9]", "_", pkg.upper())


def check_buildroot(row, cell, deps, config):
    selects = set(re.findall(r"^\s*select\s+(\w+)", config, re.M))
    depends = set(re.findall(r"\b(BR2_\w+)", " ".join(re.findall(r"^\s*depends on\s+(.*)$", config, re.M))))
    if cell.startswith("BR2_"):
        if cell not in depends:
            fail("buildroot Config.in does not depend on %s (for %s)" % (cell, row))
    elif cell.startswith("="):
        pass
    else:
        if cell not in deps:
            fail("sysupgraded.mk: SYSUPGRADED_DEPENDENCIES lacks %s (for %s)" % (cell, row))
        if not cell.startswith("host-") and br_symbol(cell) not in selects:
            fail("buildroot Config.in does not select %s (for %s)" % (br_symbol(cell), row))


def check_yocto(row, cell, deps, inherits):
    if cell.startswith("inherit:"):
        if cell[len("inherit:"):] not in inherits:
            fail("sysupgraded_git.bb does not inherit %s (for %s)" % (cell[8:], row))
    elif not cell.startswith("=") and cell not in deps:
        fail("sysupgraded_git.bb: DEPENDS lacks %s (for %s): %s" % (cell, row, " ".join(deps)))


def check_dependencies():
    reqs = cmake_requirements()
    if not {"module:json-c", "library:mtd", "package:Threads"} <= reqs:
        fail("the CMake scan found too little (%s): is the parser broken?" % sorted(reqs))
    rows = dependency_table()
    for r in sorted(reqs - rows.keys()):
        fail("CMake requires %s, which contrib/packaging/dependencies has no row for" % r)
    for r in sorted(rows.keys() - reqs):
        fail("contrib/packaging/dependencies lists %s, which CMake no longer requires" % r)
    owrt = read(OPENWRT)
    owrt_deps = assignment(define_block(owrt, "Package/sysupgraded"), "DEPENDS")
    br_deps = assignment(read(BR_MK), "SYSUPGRADED_DEPENDENCIES")
    br_config = uncomment(read(BR_CONFIG))
    yocto = uncomment(read(YOCTO))
    y_deps = assignment(yocto, "DEPENDS")
    y_inherits = " ".join(re.findall(r"^\s*inherit\s+(.*)$", yocto, re.M)).split()
    for row, cells in sorted(rows.items()):
        check_openwrt(row, cells["openwrt"], owrt, owrt_deps)
        check_buildroot(row, cells["buildroot"], br_deps, br_config)
        check_yocto(row, cells["yocto"], y_deps, y_inherits)
    ok("%d CMake requirements, each named by the OpenWrt, Buildroot and Yocto recipes" % len(reqs))


def tree_refs(text, prefix):
    """paths of this tree referenced as PREFIX/path (none with a $ in them)"""
    return set(re.findall(re.escape(prefix) + r"/([\w./-]+)(?![\w./$(-])", text))


def check_tree_files():
    refs = [(OPENWRT, p) for p in tree_refs(read(OPENWRT), "$(PKG_BUILD_DIR)")]
    refs += [(BR_MK, p) for p in tree_refs(read(BR_MK), "$(@D)")]
    refs += [(YOCTO, p) for p in tree_refs(read(YOCTO), "${S}")]
    for recipe in (OPENWRT, BR_MK, YOCTO):
        if not any(r == recipe for r, _ in refs):
            fail("%s names no file of the tree: is the parser broken?" % os.path.relpath(recipe, SRC))
    for recipe, path in sorted(refs):
        if not os.path.isfile(os.path.join(SRC, path)):
            fail("%s uses %s, which is not in the tree" % (os.path.relpath(recipe, SRC), path))
    ok("the %d tree files the recipes install or run exist" % len(refs))


def cmake_install(dest):
    build = os.environ["SU_BUILD_DIR"]
    env = dict(os.environ, DESTDIR=dest)
    r = subprocess.run([os.environ["SU_CMAKE"], "--install", build, "--prefix", "/usr"],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        fail("cmake --install %s: %s" % (build, r.stdout))


def check_installed(dest):
    """files the recipes take from the install exist in it (prefix /usr)"""
    want = [(OPENWRT, p) for p in tree_refs(read(OPENWRT), "$(PKG_INSTALL_DIR)")]
    want += [(BR_MK, p) for p in re.findall(r"rm -f \$\(TARGET_DIR\)/([\w./-]+)", read(BR_MK))]
    yocto = uncomment(read(YOCTO))
    if "-DSU_SYSTEMD_UNIT_DIR=${systemd_system_unitdir}" not in yocto:
        fail("sysupgraded_git.bb does not put the unit in ${systemd_system_unitdir}")
    dirs = {"${sbindir}": "usr/sbin", "${bindir}": "usr/bin", "${datadir}": "usr/share",
            "${systemd_system_unitdir}": "usr/lib/systemd/system"}
    for word in assignment(yocto, "FILES:${PN}"):
        for var, path in dirs.items():
            if word.startswith(var):
                want.append((YOCTO, path + word[len(var):]))
    for unit in assignment(yocto, "SYSTEMD_SERVICE:${PN}"):
        want.append((YOCTO, "usr/lib/systemd/system/" + unit))
    if len({r for r, _ in want}) != 3:
        fail("not every recipe names a file of the install: is the parser broken?")
    for recipe, path in sorted(want):
        if not os.path.exists(os.path.join(dest, path)):
            fail("%s takes %s from the install, which cmake --install --prefix /usr does not make"
                 % (os.path.relpath(recipe, SRC), path))
    ok("the %d installed files the recipes take are in cmake --install's output" % len(want))


def check_flags():
    texts = {OPENWRT: read(OPENWRT), BR_MK: read(BR_MK), YOCTO: read(YOCTO)}
    for recipe, text in texts.items():
        if "-DBUILD_TESTING=OFF" not in text:
            fail("%s does not pass -DBUILD_TESTING=OFF" % os.path.relpath(recipe, SRC))
    if "/etc/sysupgraded.conf" not in define_block(texts[OPENWRT], "Package/sysupgraded/conffiles"):
        fail("openwrt/Makefile: /etc/sysupgraded.conf is not in Package/sysupgraded/conffiles")
    if assignment(uncomment(texts[YOCTO]), "CONFFILES:${PN}") != ["${sysconfdir}/sysupgraded.conf"]:
        fail("sysupgraded_git.bb: CONFFILES is not ${sysconfdir}/sysupgraded.conf")
    m = re.search(r'LIC_FILES_CHKSUM = "file://([^;]+);beginline=(\d+);endline=(\d+);md5=(\w+)"',
                  texts[YOCTO])
    if not m:
        fail("sysupgraded_git.bb: no LIC_FILES_CHKSUM with beginline, endline and md5")
    else:
        with open(os.path.join(SRC, m.group(1)), "rb") as f:
            lines = f.readlines()[int(m.group(2)) - 1:int(m.group(3))]
        md5 = hashlib.md5(b"".join(lines)).hexdigest()
        if md5 != m.group(4):
            fail("LIC_FILES_CHKSUM: %s lines %s-%s have md5 %s, the recipe says %s"
                 % (m.group(1), m.group(2), m.group(3), md5, m.group(4)))
    ok("tests off in all three; conffiles declared (OpenWrt, Yocto); the Yocto license checksum holds")


def main():
    check_dependencies()
    check_tree_files()
    with tempfile.TemporaryDirectory(prefix="su-recipes.") as dest:
        cmake_install(dest)
        check_installed(dest)
    check_flags()
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
