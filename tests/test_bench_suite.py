"""Suite files: the shipped ones load, bad ones fail with a message naming the key or line."""

import textwrap

import pytest

from fastfact.bench.suite import SuiteError, load_suite, shipped_suites

HEADER = '[suite]\nname = "t"\n'


def _suite(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "suite.toml"
    path.write_text(header + textwrap.dedent(body))
    return load_suite(path)


@pytest.mark.parametrize("name", ["quick", "default", "paper"])
def test_shipped_suites_load(name):
    assert name in shipped_suites()
    suite = load_suite(name)
    assert suite.name == name
    assert suite.tasks and suite.settings["repeats"] >= 5
    assert len({task["id"] for task in suite.tasks}) == len(suite.tasks)


def test_paper_suite_has_a_claim_per_headline_result():
    ids = [claim["id"] for claim in load_suite("paper").claims]
    assert {f"H{k}" for k in range(1, 9)} <= set(ids)


def test_grid_expands_and_peers_are_matched_to_transforms(tmp_path):
    suite = _suite(tmp_path, """
        [[apply]]
        transforms = ["hadamard", "dft"]
        sizes = [16, 32]
        batches = [1, 4]
        peers = ["numpy-fft", "numpy-fwht", "dense"]
        """)
    assert len(suite.tasks) == 2 * 2 * 2
    by_transform = {t["transform"]: [c["name"] for c in t["contenders"]] for t in suite.tasks}
    assert by_transform == {"hadamard": ["fastfact", "numpy-fwht", "dense"],
                            "dft": ["fastfact", "numpy-fft", "dense"]}
    rows = {c["name"]: c["row"] for t in suite.tasks for c in t["contenders"]}
    assert rows["numpy-fft"] == {"impl": "numpy-fft", "method": "apply", "layout": "rows"}
    assert rows["fastfact"] == {"impl": "fastfact", "method": "apply", "layout": "columns"}


def test_apply_sweep_may_name_another_reference(tmp_path):
    suite = _suite(tmp_path, """
        [[apply]]
        transforms = ["dft"]
        sizes = [16]
        reference = "numpy-fft"
        peers = ["fastfact", "numpy-fft", "dense"]
        """)
    (task,) = suite.tasks
    assert [c["name"] for c in task["contenders"]] == ["numpy-fft", "fastfact", "dense"]
    with pytest.raises(SuiteError, match=r"#1.reference: 'numpy-fft' does not compute 'hadamard'"):
        _suite(tmp_path, '[[apply]]\ntransforms = ["hadamard"]\nsizes = [16]\n'
                         'reference = "numpy-fft"\n')


def test_factorize_sweeps_split_accuracy_and_timing_tasks(tmp_path):
    suite = _suite(tmp_path, """
        [methods]
        hier-bal = { method = "hierarchical", order = "balanced" }

        [[factorize]]
        targets = ["hadamard"]
        methods = ["hierarchical", "hier-bal"]
        sizes = [16]
        noise = [0.0, 0.1]
        seeds = [0, 1, 2]

        [[factorize_time]]
        targets = ["hadamard"]
        methods = ["hierarchical", "hier-bal"]
        sizes = [16, 32]
        """)
    accuracy = [t for t in suite.tasks if t["kind"] == "factorize"]
    timing = [t for t in suite.tasks if t["kind"] == "factorize_time"]
    assert len(accuracy) == 2 * 2 * 3  # one task per method: they run in parallel
    assert len(timing) == 2 and all(len(t["contenders"]) == 2 for t in timing)
    assert suite.methods["hier-bal"].options == {"order": "balanced"}
    assert [c["label"] for c in timing[0]["contenders"]] == ["hierarchical", "hier-bal"]
    assert timing[0]["contenders"][1]["row"] == {"impl": "fastfact", "method": "hier-bal",
                                                 "layout": ""}


def test_unknown_suite_name_lists_shipped_suites():
    with pytest.raises(SuiteError, match=r"unknown suite 'quik'.*quick"):
        load_suite("quik")


def test_missing_suite_file():
    with pytest.raises(SuiteError, match="cannot read suite file"):
        load_suite("/nonexistent/suite.toml")


def test_malformed_toml_names_the_line(tmp_path):
    with pytest.raises(SuiteError, match=r"malformed TOML: Unclosed array \(at line 6"):
        _suite(tmp_path, """
            [[apply]]
            transforms = ["hadamard"
            sizes = [16]
            """)


@pytest.mark.parametrize(("body", "message"), [
    ('[[apply]]\ntransforms = ["hadamard"]\nsizes = [16]\nsizez = [1]\n',
     r"\[\[apply\]\] #1: unknown key 'sizez'"),
    ('[[apply]]\ntransforms = ["walsh"]\nsizes = [16]\n',
     r"\[\[apply\]\] #1.transforms: unknown transform 'walsh'; known: dft, hadamard"),
    ('[[apply]]\ntransforms = ["dft"]\nsizes = [16]\npeers = ["fftw3"]\n',
     r"peers: unknown apply peer 'fftw3'"),
    ('[[apply]]\ntransforms = ["dft"]\nsizes = [16]\nreference = "fftw3"\n',
     r"reference: unknown apply implementation 'fftw3'"),
    ('[[factorize]]\ntargets = ["hadamard"]\nmethods = ["newton"]\nsizes = [16]\n',
     r"methods: unknown method 'newton'"),
    ('[[factorize]]\ntargets = ["identity"]\nmethods = ["hierarchical"]\nsizes = [16]\n',
     r"targets: unknown target 'identity'"),
    ('[methods]\nx = { method = "newton" }\n[[factorize]]\ntargets = ["hadamard"]\n'
     'methods = ["x"]\nsizes = [16]\n', r"\[methods.x\].method: unknown method 'newton'"),
    ('[methods]\nx = { peer = "pyfaust" }\n[[factorize]]\ntargets = ["hadamard"]\n'
     'methods = ["x"]\nsizes = [16]\n', r"\[methods.x\].peer: unknown peer 'pyfaust'"),
    ('[methods]\nx = { method = "hierarchical", ordr = "balanced" }\n',
     r"suite.toml: \[methods.x\]: hierarchical: .*unknown option.*ordr"),
    ('[methods]\nx = { method = "hierarchical", order = "sideways" }\n',
     r"suite.toml: \[methods.x\]: hierarchical: unknown order 'sideways'"),
    ('[methods]\nx = { peer = "pyfaust-butterfly", typ = "bbtree" }\n',
     r"suite.toml: \[methods.x\].typ: pyfaust-butterfly has no option 'typ'; accepted: type"),
    ('[methods]\nx = { peer = "pyfaust-palm4msa", iterations = -5 }\n',
     r"\[methods.x\].iterations: pyfaust-palm4msa: iterations must be a positive int"),
    ('[[apply]]\ntransforms = ["dft"]\nsizes = [16]\ndtypes = ["float16"]\n',
     r"dtypes: unknown dtype 'float16'"),
    ('[[apply]]\ntransforms = ["dft"]\nsizes = 16\n', r"sizes: must be a non-empty list"),
    ('[[apply]]\ntransforms = ["dft"]\nsizes = ["big"]\n', r"sizes: expected int values"),
    ('[[factorize]]\ntargets = ["dft"]\nmethods = ["hierarchical"]\nsizes = [16]\n'
     'noise_model = "pink"\n', r"noise_model: unknown noise model 'pink'"),
    ('[[apply]]\ntransforms = ["dft"]\n', r"missing required key 'sizes'"),
    ('[apply]\ntransforms = ["dft"]\nsizes = [16]\n', r"must be an array of tables"),
    ('', r"no \[\[apply\]\], \[\[factorize\]\] or \[\[factorize_time\]\] sweep"),
    ('[[claims]]\nid = "H1"\nclaim = "c"\npaper = "p"\nmeasure = "vibes"\n'
     '[[apply]]\ntransforms = ["dft"]\nsizes = [16]\n', r"unknown measure 'vibes'"),
])
def test_invalid_suites_name_the_key(tmp_path, body, message):
    with pytest.raises(SuiteError, match=message):
        _suite(tmp_path, body)


@pytest.mark.parametrize(("header", "message"), [
    ('[suite]\nrepeats = 5\n', r"\[suite\]: missing required key 'name'"),
    ('[suite]\nname = "t"\nrepeats = 3\n', r"\[suite\].repeats: the timing protocol needs >= 5"),
    ('[suite]\nname = "t"\nthreads = 0\n', r"\[suite\].threads: must be positive"),
    ('[suite]\nname = "t"\nmin_seconds = "fast"\n', r"\[suite\].min_seconds: must be a float"),
    ('[suite]\nname = "a/b"\n', r"\[suite\].name: must be a non-empty string without '/'"),
])
def test_invalid_settings(tmp_path, header, message):
    with pytest.raises(SuiteError, match=message):
        _suite(tmp_path, '[[apply]]\ntransforms = ["dft"]\nsizes = [16]\n', header=header)


def test_digest_tracks_the_text(tmp_path):
    one = _suite(tmp_path, '[[apply]]\ntransforms = ["dft"]\nsizes = [16]\n')
    two = _suite(tmp_path, '[[apply]]\ntransforms = ["dft"]\nsizes = [32]\n')
    assert one.digest != two.digest
    assert one.requested_implementations() == [("apply", "fastfact")]


def test_task_ids_are_exact_for_values_that_print_alike(tmp_path):
    """Audit: noise = [0.1, 0.1000001] gave both tasks the id noise=0.1."""
    suite = _suite(tmp_path, """
        [[factorize]]
        targets = ["hadamard"]
        methods = ["hierarchical"]
        sizes = [16]
        noise = [0, 0.1, 0.1000001, 1e-05]
        """)
    ids = [task["id"] for task in suite.tasks]
    assert len(set(ids)) == 4
    noise = [task_id.split("/")[5] for task_id in ids]
    # exact, and unchanged where the short form was exact already (ids of earlier runs)
    assert noise == ["noise=0", "noise=0.1", "noise=0.1000001", "noise=1e-05"]


def test_duplicate_task_ids_are_rejected_at_load(tmp_path, monkeypatch):
    from fastfact.bench import suite as suite_module

    monkeypatch.setattr(suite_module, "_number_text", lambda value: "same")
    with pytest.raises(SuiteError, match=r"suite.toml: \[\[factorize\]\] #1: two tasks have "
                                         r"the id 'factorize#1/hierarchical/hadamard/"):
        _suite(tmp_path, '[[factorize]]\ntargets = ["hadamard"]\nmethods = ["hierarchical"]\n'
                         'sizes = [16]\nnoise = [0.1, 0.2]\n')


def test_method_labels_cannot_hold_a_slash(tmp_path):
    with pytest.raises(SuiteError, match=r"\[methods.a/b\]: a label must not contain '/'"):
        _suite(tmp_path, '[methods]\n"a/b" = { method = "hierarchical" }\n')


def test_task_timeout_setting(tmp_path):
    body = '[[apply]]\ntransforms = ["dft"]\nsizes = [16]\n'
    assert _suite(tmp_path, body).settings["task_timeout"] == 900.0
    suite = _suite(tmp_path, body, header=HEADER + "task_timeout = 2.5\n")
    assert suite.settings["task_timeout"] == 2.5
    assert "task_timeout" not in suite.tasks[0]  # a run setting, not a task parameter
    assert _suite(tmp_path, body, header=HEADER + "task_timeout = inf\n") \
        .settings["task_timeout"] == float("inf")
    for bad in ("0", "-1", '"long"', "nan"):
        with pytest.raises(SuiteError, match=r"\[suite\].task_timeout: must be a positive "
                                             r"number of seconds \(inf: no limit\)"):
            _suite(tmp_path, body, header=HEADER + f"task_timeout = {bad}\n")


@pytest.mark.parametrize(("body", "message"), [
    ('[[apply]]\ntransforms = ["hadamard"]\nsizes = [16, 1000]\n',
     r"\[\[apply\]\] #1.sizes: N = 1000 is not valid for the hadamard transform \(butterfly chain\): "
     r"N must be a power of two"),
    ('[[factorize]]\ntargets = ["gaussian"]\nmethods = ["hierarchical"]\nsizes = [48]\n',
     r"\[\[factorize\]\] #1.sizes: N = 48 is not valid for the butterfly chain: N must be a power"),
    ('[[factorize]]\ntargets = ["gaussian"]\nmethods = ["hierarchical"]\nsizes = [32]\n'
     'chain = "monarch"\n', r"\[\[factorize\]\] #1.sizes: N = 32 is not valid for the monarch chain"),
])
def test_sizes_that_do_not_fit_the_chain_are_refused_at_load(tmp_path, body, message):
    with pytest.raises(SuiteError, match=message):
        _suite(tmp_path, body)


@pytest.mark.parametrize(("body", "key", "N"), [
    ('[[apply]]\ntransforms = ["hadamard"]\nsizes = [1024, 1073741824]\n', "apply", 2**30),
    ('[[apply]]\ntransforms = ["dft"]\nsizes = [1024]\nbatches = [1, 1099511627776]\n', "apply", 1024),
    ('[[factorize]]\ntargets = ["hadamard"]\nmethods = ["hierarchical"]\nsizes = [64, 1048576]\n',
     "factorize", 2**20),
    ('[[factorize_time]]\ntargets = ["gaussian"]\nmethods = ["als"]\nsizes = [1048576]\n',
     "factorize_time", 2**20),
])
def test_tasks_too_large_for_this_machine_are_refused_at_load(tmp_path, body, key, N):
    with pytest.raises(SuiteError, match=rf"\[\[{key}\]\] #1: task {key}#1/.*N={N}.* needs about "
                                         r"[\d.]+ [TPG]iB of memory, but this machine has .* available"):
        _suite(tmp_path, body)


def test_the_estimate_counts_the_dense_peer_and_the_method(tmp_path, monkeypatch):
    from fastfact import _validation

    monkeypatch.setattr(_validation, "MEMORY_CHECK_FLOOR", 0)
    monkeypatch.setattr(_validation, "available_memory", lambda: (20 * 2**20, 200 * 2**20))
    apply = '[[apply]]\ntransforms = ["random-butterfly"]\nsizes = [1024]\n'
    _suite(tmp_path, apply)  # about 1.3 MiB; the dense peer's 1024² complex matrix and identity: 32 MiB
    with pytest.raises(SuiteError, match="implementations: fastfact, dense"):
        _suite(tmp_path, apply + 'peers = ["dense"]\n')
    monkeypatch.setattr(_validation, "available_memory", lambda: (100 * 2**20, 200 * 2**20))
    factorize = '[[factorize]]\ntargets = ["gaussian"]\nsizes = [1024]\nmethods = '
    _suite(tmp_path, factorize + '["hierarchical"]\n')
    with pytest.raises(SuiteError, match="method als"):
        _suite(tmp_path, factorize + '["als"]\n')


def test_random_monarch_sizes_are_checked_against_the_monarch_chain(tmp_path):
    """Audit: sizes were checked against the butterfly chain for every transform (N = 32 loaded,
    then its random-monarch task failed)."""
    with pytest.raises(SuiteError, match=r"\[\[apply\]\] #1.sizes: N = 32 is not valid for the "
                                         r"random-monarch transform \(monarch chain\)"):
        _suite(tmp_path, '[[apply]]\ntransforms = ["hadamard", "random-monarch"]\nsizes = [16, 32]\n')
    _suite(tmp_path, '[[apply]]\ntransforms = ["random-monarch"]\nsizes = [16, 64]\n')


def test_the_apply_estimate_counts_the_transform_s_own_twiddles(tmp_path, monkeypatch):
    """A Monarch of N = 2^20 has 2 N √N = 2^31 twiddles (not the butterfly's 2 N log2 N)."""
    from fastfact import _validation

    monkeypatch.setattr(_validation, "available_memory", lambda: (10 * 2**30, 20 * 2**30))
    _suite(tmp_path, '[[apply]]\ntransforms = ["random-butterfly"]\nsizes = [1048576]\n')
    with pytest.raises(SuiteError, match=r"task apply#1/random-monarch/N=1048576.* needs about"):
        _suite(tmp_path, '[[apply]]\ntransforms = ["random-monarch"]\nsizes = [1048576]\n')
