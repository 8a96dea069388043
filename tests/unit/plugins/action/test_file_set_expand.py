"""The file_set action plugin's expansion of a source directory into one entry per file."""

from ansible_collections.homelab.stack.plugins.action.file_set import expand


def test_a_file_stays_one_entry(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("a")
    assert expand({"path": "/etc/a.txt", "src": "a.txt", "mode": "0600"}, str(source)) == (
        [], [{"path": "/etc/a.txt", "src": str(source), "mode": "0600"}])


def test_a_directory_becomes_its_files_and_subdirectories_skipping_bytecode(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("b")
    (tmp_path / "pkg" / "a.py").write_text("a")
    (tmp_path / "pkg" / "a.pyc").write_bytes(b"\0")
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "pkg" / "sub" / "c.py").write_text("c")
    directories, files = expand({"path": "/opt/pkg", "src": "pkg", "mode": "0644", "owner": "nobody"}, str(tmp_path / "pkg"))
    assert directories == [{"path": "/opt/pkg", "mode": "0755", "owner": "nobody"},
                           {"path": "/opt/pkg/sub", "mode": "0755", "owner": "nobody"}]
    assert [(f["path"], f["src"], f["mode"], f["owner"]) for f in files] == [
        ("/opt/pkg/a.py", str(tmp_path / "pkg" / "a.py"), "0644", "nobody"),
        ("/opt/pkg/b.py", str(tmp_path / "pkg" / "b.py"), "0644", "nobody"),
        ("/opt/pkg/sub/c.py", str(tmp_path / "pkg" / "sub" / "c.py"), "0644", "nobody"),
    ]
