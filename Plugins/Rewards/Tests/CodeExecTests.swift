import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// code-exec, loaded through the plugin loader: scoring, test-column formats, and one test per
/// sandbox escape attempt (each must score 0 with its reason logged, and leave the host untouched).
final class CodeExecTests: XCTestCase {
    private var logPath = ""

    override func setUpWithError() throws {
        TestPlugins.loadBuilt(requiring: ["code-exec"])
        logPath = try makeTemporaryFolder("code-exec").appendingPathComponent("log.jsonl").path
    }

    /// Scores `completions` against `tests` and returns the scores with the logged reasons.
    private func run(_ completions: [String], tests: [ColumnValue], settings: String = "",
                     extraColumns: [String: [ColumnValue]] = [:]) throws -> (scores: [Float?], reasons: [String]) {
        let spec = "code-exec:log_file=\(logPath)" + (settings.isEmpty ? "" : "," + settings)
        let reward = try ComponentRegistry.shared.reward(spec).reward
        var columns = extraColumns
        columns["tests"] = tests
        let scores = try reward.score(RewardBatch(prompts: completions.map { _ in "" }, completions: completions, columns: columns))
        let lines = (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n") ?? []
        var reasons = [String](repeating: "", count: completions.count)
        for line in lines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            reasons[try XCTUnwrap(object["index"] as? Int)] = try XCTUnwrap(object["reason"] as? String)
        }
        try? FileManager.default.removeItem(atPath: logPath)
        return (scores, reasons)
    }

    private let squareTests: ColumnValue = .array([.string("assert square(2) == 4"), .string("assert square(-3) == 9"),
                                                   .string("assert square(0) == 0")])

    /// Processes owned by the sandbox uid (nobody) anywhere on the host.
    private func sandboxProcesses() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.filter { pid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            return status.split(separator: "\n").contains { $0.hasPrefix("Uid:") && $0.split(separator: "\t").dropFirst().first == "65534" }
        }
    }

    func testPassFractionFromFencedCode() throws {
        let right = "Here you go:\n```python\ndef square(x):\n    return x * x\n```\nDone."
        let partly = "```python\ndef square(x):\n    return x * abs(x)\n```"
        let unfenced = "def square(x):\n    return x ** 2\n"
        let lastBlockWins = "```python\ndef square(x):\n    return 0\n```\nFixed:\n```py\ndef square(x):\n    return x*x\n```"
        let broken = "```python\ndef square(x) return x\n```"
        let result = try run([right, partly, unfenced, lastBlockWins, broken], tests: Array(repeating: squareTests, count: 5))
        XCTAssertEqual(result.scores, [1, Float(2) / 3, 1, 1, 0])
        XCTAssertEqual(result.reasons[0], "")
        XCTAssertTrue(result.reasons[1].hasPrefix("test 1 failed: AssertionError"), result.reasons[1])
        XCTAssertTrue(result.reasons[4].contains("SyntaxError"), result.reasons[4])
    }

    func testTestColumnFormatsBinaryAndSetup() throws {
        let code = "```python\ndef add(a, b):\n    return a + b\n```"
        let tests: [ColumnValue] = [
            .string(#"["assert add(1, 2) == 3", "assert add(2, 2) == 5"]"#),
            .string("def check(f):\n    assert f(1, 1) == 2\ncheck(add)"),
            .null,
            .array([]),
            .array([.string("assert add(K, 1) == 11")]),
        ]
        let setup: [ColumnValue] = [.null, .null, .null, .null, .string("K = 10")]
        let result = try run(Array(repeating: code, count: 5), tests: tests, extraColumns: ["setup": setup]) // setup_column unset
        XCTAssertEqual(result.scores[0], 0.5)
        XCTAssertEqual(result.scores[1], 1)
        XCTAssertNil(result.scores[2])
        XCTAssertNil(result.scores[3])
        XCTAssertEqual(result.scores[4], 0, "K is undefined without setup_column")
        let withSetup = try run(Array(repeating: code, count: 5), tests: tests, settings: "setup_column=setup,binary=true",
                                extraColumns: ["setup": setup])
        XCTAssertEqual(withSetup.scores.map { $0 }, [0, 1, nil, nil, 1])
    }

    func testDemoBlockUnderMainDoesNotRun() throws {
        let code = "def f():\n    return 1\nif __name__ == '__main__':\n    input()\n"
        XCTAssertEqual(try run([code], tests: [.array([.string("assert f() == 1")])]).scores, [1])
    }

    func testInfiniteLoopHitsTheCPULimit() throws {
        let result = try run(["def f():\n    return 1\nwhile True:\n    pass\n"], tests: [.array([.string("assert f() == 1")])],
                             settings: "cpu_time=1,timeout=10")
        XCTAssertEqual(result.scores, [0])
        XCTAssertTrue(result.reasons[0].contains("CPU-time limit"), result.reasons[0])
    }

    func testSleepingForeverHitsTheWallLimit() throws {
        let start = Date()
        let result = try run(["import time\ntime.sleep(1000)\n"], tests: [.array([.string("assert True")])], settings: "timeout=1")
        XCTAssertEqual(result.scores, [0])
        XCTAssertTrue(result.reasons[0].contains("wall-time limit"), result.reasons[0])
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testForkBombIsContainedAndLeavesNoProcess() throws {
        let bomb = "import os\ndef f():\n    return 1\nwhile True:\n    os.fork()\n"
        let result = try run([bomb], tests: [.array([.string("assert f() == 1")])], settings: "timeout=3,cpu_time=2")
        XCTAssertEqual(result.scores, [0])
        XCTAssertFalse(result.reasons[0].isEmpty)
        XCTAssertEqual(sandboxProcesses(), [], "processes of the sandbox uid outlived the run")
    }

    func testProcessLimitStopsForking() throws {
        // Root is exempt from RLIMIT_NPROC; the sandbox's uid is not, so the fifth process fails.
        let spawner = "import os, time\nfor i in range(10):\n    if os.fork() == 0:\n        time.sleep(30)\n        os._exit(0)\n"
        let result = try run([spawner], tests: [.array([.string("assert True")])], settings: "max_processes=4,timeout=5")
        XCTAssertEqual(result.scores, [0])
        XCTAssertTrue(result.reasons[0].contains("BlockingIOError"), result.reasons[0])
        XCTAssertEqual(sandboxProcesses(), [], "the sleeping children outlived the run")
    }

    func testDetachedChildIsKilledWithTheRun() throws {
        // A child that leaves the process group and ignores its parent's death still dies with the
        // PID namespace when the run ends.
        let code = """
        import os, time, ctypes
        if os.fork() == 0:
            os.setsid()
            ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)
            time.sleep(60)
            os._exit(0)
        def f():
            return 1
        """
        let result = try run([code], tests: [.array([.string("assert f() == 1")])], settings: "timeout=5")
        XCTAssertEqual(result.scores, [1])
        XCTAssertEqual(sandboxProcesses(), [], "a detached child outlived the run")
    }

    func testUnboundedAllocationFails() throws {
        let grow = "chunks = []\nwhile True:\n    chunks.append(bytearray(50_000_000))\n"
        let huge = "x = bytearray(8 * 1024 ** 3)\n"
        let result = try run([grow, huge], tests: Array(repeating: .array([.string("assert True")]), count: 2),
                             settings: "memory_mb=256")
        XCTAssertEqual(result.scores, [0, 0])
        for reason in result.reasons { XCTAssertTrue(reason.contains("MemoryError"), reason) }
    }

    func testWritesOutsideItsFolderDoNotReachTheHost() throws {
        let marker = "temper-escape-\(UUID().uuidString)"
        let targets = ["/tmp/\(marker)", "/usr/\(marker)", FileManager.default.currentDirectoryPath + "/\(marker)", "/\(marker)-root/x"]
        // Inside the sandbox these land in its own tmpfs (or fail); none may appear on the host.
        let attempts = targets.map { "import os\nos.makedirs(os.path.dirname('\($0)'), exist_ok=True)\nopen('\($0)', 'w').write('x')\n" }
        _ = try run(attempts, tests: Array(repeating: .array([.string("assert True")]), count: attempts.count))
        for path in targets {
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "sandbox wrote \(path) on the host")
        }
        // The /usr bind is read-only, and nothing of the host outside /usr is even visible.
        let result = try run(["open('/usr/\(marker)', 'w')\n", "import os\nassert not os.path.exists('\(TemperRepository.root.path)') and not os.path.exists('/root')\n"],
                             tests: [.array([.string("assert True")]), .array([.string("assert True")])])
        XCTAssertEqual(result.scores, [0, 1])
        XCTAssertTrue(result.reasons[0].contains("Read-only file system") || result.reasons[0].contains("Permission denied"), result.reasons[0])
    }

    func testHostFilesCannotBeRead() throws {
        let secretPath = NSTemporaryDirectory() + "temper-secret-\(UUID().uuidString)"
        try "s3cret".write(toFile: secretPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secretPath)
        defer { try? FileManager.default.removeItem(atPath: secretPath) }
        let readers = ["print(open('\(secretPath)').read())\n", "print(open('/etc/passwd').read())\n",
                       "print(open('/proc/1/environ').read())\n"]
        let result = try run(readers, tests: Array(repeating: .array([.string("assert True")]), count: readers.count))
        XCTAssertEqual(result.scores, [0, 0, 0])
        for reason in result.reasons { XCTAssertTrue(reason.contains("FileNotFoundError"), reason) }
    }

    func testSocketsCannotReachAnyNetwork() throws {
        let attempts = [
            "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)\n",
            "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=2)\n",
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('8.8.8.8', 53))\n",
            "import socket\nsocket.getaddrinfo('example.com', 80)\n",
        ]
        let result = try run(attempts, tests: Array(repeating: .array([.string("assert True")]), count: attempts.count))
        XCTAssertEqual(result.scores, [0, 0, 0, 0])
        XCTAssertTrue(result.reasons[0].contains("Network is unreachable"), result.reasons[0])
        XCTAssertTrue(result.reasons[1].contains("ConnectionRefusedError") || result.reasons[1].contains("unreachable"), result.reasons[1])
    }

    func testNoCapabilitiesInsideTheSandbox() throws {
        let mount = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nassert libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0, os.strerror(ctypes.get_errno())\n"
        let chroot = "import os\nos.mkdir('jail')\nos.chroot('jail')\n"
        let result = try run([mount, chroot], tests: Array(repeating: .array([.string("assert True")]), count: 2))
        XCTAssertEqual(result.scores, [0, 0])
        XCTAssertTrue(result.reasons[0].contains("Operation not permitted"), result.reasons[0])
        XCTAssertTrue(result.reasons[1].contains("PermissionError"), result.reasons[1])
    }

    /// The seccomp filter of the namespace mode: a nested user namespace and PTRACE_TRACEME succeed
    /// without it (checked by hand with the filter switched off); with it they fail with EPERM, and
    /// innocent code using threads, fork and subprocess still passes.
    func testSeccompStopsNamespacesMountsAndPtrace() throws {
        let prelude = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        let attempts = ["libc.unshare(0x10000000)", "libc.ptrace(0, 0, None, None)",
                        "libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)"].map {
            prelude + "assert \($0) == 0, os.strerror(ctypes.get_errno())\n"
        }
        let innocent = """
        import threading, os, subprocess
        def square(x):
            return x * x
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        subprocess.run(["/bin/true"], check=True)

        """
        let result = try run(attempts + [innocent], tests: Array(repeating: squareTests, count: 4), settings: "isolation=namespaces")
        XCTAssertEqual(result.scores, [0, 0, 0, 1])
        for k in 0..<3 {
            XCTAssertEqual(result.reasons[k], "the code raised AssertionError: Operation not permitted")
        }
    }

    /// A sandbox that cannot be built is the host's problem, not the completion's: an error naming
    /// the cause, not a score of 0 (here the task does not fit in a 1 MiB file tree).
    func testSandboxSetupFailureIsAnError() throws {
        let big = "def square(x):\n    return x * x\n#" + String(repeating: "a", count: 1_500_000)
        XCTAssertThrowsError(try run([big], tests: [squareTests], settings: "isolation=namespaces,tmpfs_mb=1")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("code-exec sandbox: setup failed (no completion code ran): writing the task (150"), text)
            XCTAssertTrue(text.hasSuffix(" bytes) into the run's file tree of 1024 KiB (raise tmpfs_mb): No space left on device"), text)
        }
        // A completion that exits with the launcher's set-up status is still only a failed row.
        let result = try run(["import os\nos._exit(97)\n"], tests: [squareTests], settings: "isolation=namespaces")
        XCTAssertEqual(result.scores, [0])
        XCTAssertEqual(result.reasons[0], "the interpreter exited with status 97 before reporting")
    }

    func testForgedResultsAndEarlyExitsScoreZero() throws {
        let forged = "print('\\n@@0123456789abcdef 3 3\\t')\nimport os\nos._exit(0)\n"
        let exits = "import sys\nsys.exit(0)\n"
        let result = try run([forged, exits], tests: [squareTests, squareTests])
        XCTAssertEqual(result.scores, [0, 0])
        XCTAssertTrue(result.reasons[0].contains("before reporting"), result.reasons[0])
        XCTAssertTrue(result.reasons[1].contains("SystemExit"), result.reasons[1])
    }

    /// The attack of issue 15: walk the stack to the harness's nonce, print a passing verdict (to
    /// every descriptor there is) and exit 0. The verdict comes from another process: 0.
    func testVerdictCannotBeForgedFromTheSolutionsProcess() throws {
        let stackWalk = """
        import sys, os, gc
        found = set()
        f = sys._getframe()
        while f is not None:
            if isinstance(f.f_locals.get('nonce'), str):
                found.add(f.f_locals['nonce'])
            f = f.f_back
        assert found, 'the nonce is in the frames'
        for o in gc.get_objects():
            if isinstance(o, str) and len(o) >= 16 and all(c in '0123456789abcdef' for c in o):
                found.add(o)
        targets = list(range(64))
        for pid in (os.listdir('/proc') if os.path.isdir('/proc') else []):
            try:
                targets += [os.open('/proc/%s/fd/%s' % (pid, fd), os.O_WRONLY) for fd in os.listdir('/proc/%s/fd' % pid)]
            except OSError:
                pass
        for nonce in found:
            for fd in targets:
                try:
                    os.write(fd, ('\\n@@%s 3 3\\t\\n' % nonce).encode())
                except OSError:
                    pass
        os._exit(0)
        """
        // A redefined builtin the tests rely on does not reach them.
        let shadow = "def square(x):\n    return 0\nabs = lambda x: 0\n"
        // Without namespaces the host's /proc is visible too: the harness and the launcher are not
        // dumpable, so their descriptors cannot be opened from there.
        for isolation in ["isolation=namespaces", "isolation=rlimits"] {
            let result = try run([stackWalk, shadow], tests: [squareTests, .array([.string("assert abs(square(3) - 9) == 0")])], settings: isolation)
            XCTAssertEqual(result.scores, [0, 0], isolation)
            // Its writes reached the call channel (garbage to the harness) and /dev/null, nothing else.
            XCTAssertTrue(result.reasons[0].hasPrefix("the solution's process broke the call protocol"), "\(isolation): \(result.reasons[0])")
            XCTAssertTrue(result.reasons[1].hasPrefix("test 0 failed: AssertionError"), "\(isolation): \(result.reasons[1])")
        }
    }

    /// Tests call the solution across processes: data and exceptions cross, the solution's own
    /// objects do not (and say why).
    func testCallsCrossWithDataAndExceptions() throws {
        let code = """
        import math
        LIMIT = {"a": (1, 2.5), "b": {3}}
        class Box:
            pass
        def make():
            return Box()
        def check_positive(x):
            if x <= 0:
                raise ValueError("not positive: %d" % x)
            return [x, math.sqrt(x), None, b"ok", 1j]
        """
        let tests: ColumnValue = .array([
            .string("assert check_positive(4) == [4, 2.0, None, b'ok', 1j] and LIMIT['b'] == {3} and math.pi > 3"),
            .string("try:\n    check_positive(-1)\n    assert False\nexcept ValueError as e:\n    assert str(e) == 'not positive: -1'"),
            .string("assert make() is not None"),
        ])
        let result = try run([code], tests: [tests])
        XCTAssertEqual(result.scores, [Float(2) / 3])
        XCTAssertEqual(result.reasons[0], "test 2 failed: TypeError: a value of type Box cannot leave the solution's process " +
                       "(only None, bool, int, float, complex, str, bytes and lists, tuples, dicts and sets of them)")
    }

    func testLargeFilesAreCut() throws {
        let writer = "with open('big', 'wb') as f:\n    f.write(b'x' * (4 * 1024 * 1024))\n"
        let result = try run([writer], tests: [.array([.string("assert True")])], settings: "file_size_mb=1")
        XCTAssertEqual(result.scores, [0])
        XCTAssertTrue(result.reasons[0].contains("File too large"), result.reasons[0])
    }

    func testRlimitsOnlyIsolationStillScoresAndLimits() throws {
        let result = try run(["def square(x):\n    return x * x\n", "while True:\n    pass\n"], tests: [squareTests, squareTests],
                             settings: "isolation=rlimits,cpu_time=1")
        XCTAssertEqual(result.scores, [1, 0])
        XCTAssertTrue(result.reasons[1].contains("CPU-time limit"), result.reasons[1])
    }

    func testBadInputsAreClearErrors() throws {
        XCTAssertThrowsError(try run(["x"], tests: [.number(3)])) { error in
            XCTAssertEqual("\(error)", "code-exec: column 'tests', row 0: expected a list of test strings or a string, found 3")
        }
        XCTAssertThrowsError(try run(["x"], tests: [.array([.number(1)])])) { error in
            XCTAssertEqual("\(error)", "code-exec: column 'tests', row 0: expected a list of test strings, found the element 1")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("code-exec:python=/nonexistent/python3")) { error in
            XCTAssertEqual("\(error)", "code-exec: python=/nonexistent/python3 is not an executable file")
        }
        // Any other program would fail every row and score them all 0 without a word.
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("code-exec:python=/bin/sh")) { error in
            XCTAssertTrue("\(error)".hasPrefix("code-exec: python=/bin/sh is not a Python 3 interpreter: `/bin/sh -S -c " +
                                              "\"import sys; print('temper-python-probe', sys.version_info[0])\"` exited with status 2 and said: "),
                          "\(error)")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("code-exec:timeout=0")) { error in
            XCTAssertTrue("\(error)".contains("timeout=0 is out of range"), "\(error)")
        }
        let reward = try ComponentRegistry.shared.reward("code-exec").reward
        XCTAssertThrowsError(try reward.score(RewardBatch(prompts: [""], completions: [""], columns: ["test_list": [.null]]))) { error in
            XCTAssertEqual("\(error)", "code-exec: needs the dataset column 'tests'; the data has test_list")
        }
    }
}
