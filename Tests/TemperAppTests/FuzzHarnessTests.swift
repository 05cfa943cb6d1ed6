import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// temper-fuzz finds what it must: on its self-test target a trap, an allocation past the
/// address-space limit and a hang are each reported once, saved and minimized to the word that
/// causes them; a real target's short campaign reports its counts; usage errors exit 2.
final class FuzzHarnessTests: XCTestCase {
    private var fuzzer: String { TestPlugins.buildFolder + "/temper-fuzz" }

    func testSelfTestTargetFindsTrapAllocationAndHangMinimized() throws {
        let crashes = try makeTemporaryFolder("fuzz-selftest")
        let r = try TestSupport.run(fuzzer, ["run", "harness-selftest", "--executions", "300", "--seed", "1", "--timeout", "0.3",
                                             "--crashes", crashes.path, "--minimize-seconds", "20"])
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.out.hasPrefix("harness-selftest: 300 executions in "), r.out)
        let folder = crashes.appendingPathComponent("harness-selftest")
        let minimized = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".min.input") }.sorted()
        let words = try minimized.map { String(decoding: try Data(contentsOf: folder.appendingPathComponent($0)), as: UTF8.self) }
        XCTAssertEqual(Set(words), ["TRAP", "ALLOC", "HANG"], "\(minimized)")
        let hangs = try minimized.filter { $0.hasPrefix("hang-") }
            .map { String(decoding: try Data(contentsOf: folder.appendingPathComponent($0)), as: UTF8.self) }
        XCTAssertEqual(hangs, ["HANG"])
        let trapReport = try minimized.filter { $0.hasPrefix("crash-") }.map { $0.replacingOccurrences(of: ".min.input", with: ".txt") }
            .map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }
            .first { $0.contains("minimized input (escaped): TRAP\n") }
        XCTAssertTrue(trapReport?.contains("Fatal error: harness self-test: TRAP") ?? false, trapReport ?? "no TRAP report")
    }

    func testRealTargetCampaignReportsCounts() throws {
        let r = try TestSupport.run(fuzzer, ["run", "component-spec", "--executions", "500", "--seed", "2",
                                             "--crashes", try makeTemporaryFolder("fuzz-spec").path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertNotNil(r.out.range(of: #"^component-spec: 500 executions in [0-9.]+ s \([0-9]+/s\), [0-9.]+ % accepted, 0 crashes, 0 hangs\n$"#,
                                    options: .regularExpression), r.out)
    }

    func testUnknownTargetAndOptionExitTwo() throws {
        let t = try TestSupport.run(fuzzer, ["run", "gguff"])
        XCTAssertEqual(t.status, 2)
        XCTAssertEqual(t.err, "temper-fuzz: unknown target 'gguff'; targets: gguf, safetensors, tokenizer-json, config-json, "
                       + "dataset-jsonl, recipe-yaml, component-spec\n")
        let o = try TestSupport.run(fuzzer, ["run", "gguf", "--executions", "many"])
        XCTAssertEqual(o.status, 2)
        XCTAssertEqual(o.err, "temper-fuzz: --executions many: expected a number\n")
    }
}
