import Foundation
import TemperTestSupport
import XCTest

/// `temper reward` with code-exec on a host where Linux namespaces do not work, made by running it
/// as root of a user namespace that allows no further ones: `auto` refuses to run the completions'
/// code, `isolation=rlimits` runs it and warns once about exactly what is left uncontained.
final class CodeExecIsolationCommandTests: XCTestCase {
    func testAutoRefusesWithoutNamespacesAndRlimitsWarns() throws {
        guard try TestSupport.run("/usr/bin/unshare", ["-Ur", "/bin/true"]).status == 0 else {
            throw XCTSkip("this host cannot create user namespaces, so it cannot take them away either")
        }
        let folder = try makeTemporaryFolder("code-exec-isolation")
        let data = folder.appendingPathComponent("rows.jsonl").path
        try #"{"prompt": "", "completion": "def square(x):\n    return x * x\n", "tests": ["assert square(3) == 9"]}"#
            .appending("\n").write(toFile: data, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["TEMPER_PLUGIN_PATH"] = nil
        func reward(_ spec: String) throws -> (status: Int32, out: String, err: String) {
            let script = "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" reward --reward \"$1\" --data \"$2\""
            return try TestSupport.run("/usr/bin/unshare", ["-Ur", "/bin/sh", "-c", script, TestPlugins.buildFolder + "/temper", spec, data],
                                       in: TemperRepository.root, environment: environment)
        }

        let refused = try reward("code-exec")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(refused.out, "")
        XCTAssertTrue(refused.err.contains("code-exec failed on lines 1–1: code-exec sandbox: isolation=auto, but Linux namespaces do not " +
                                           "work here ("), refused.err)
        XCTAssertTrue(refused.err.contains("so the completions' code cannot be contained; set isolation=rlimits to run it anyway, with rlimits, " +
                                           "an unprivileged uid (when the host runs as root) and a temporary folder as the only containment: " +
                                           "the network and world-readable host files stay reachable"), refused.err)

        // Asked for, it runs (scoring under rlimits is CodeExecTests.testRlimitsOnlyIsolationStillScoresAndLimits;
        // here uid 65534, which the launcher drops to as root, is not mapped, so the row fails).
        let uncontained = try reward("code-exec:isolation=rlimits")
        XCTAssertEqual(uncontained.status, 0, uncontained.err)
        XCTAssertTrue(uncontained.out.hasPrefix(#"{"index":1,"reward":"#), uncontained.out)
        let warning = "code-exec: warning: isolation=rlimits runs untrusted code with rlimits, an unprivileged uid"
        XCTAssertEqual(uncontained.err.components(separatedBy: warning).count, 2, uncontained.err)
    }
}
