import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper quickstart` end to end on a smaller setting: the plugins `sft`, `full` and `adamw` are
/// resolved by name from the built libraries, as the command does.
final class QuickstartTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["sft", "full", "adamw"])
    }

    func testQuickstartTrainsAndImprovesHeldOutAccuracy() throws {
        var s = Quickstart.Settings()
        s.outputDir = try makeTemporaryFolder("quickstart").path
        s.digits = 1
        s.trainCount = 80
        s.heldOutCount = 20
        s.maxSteps = 120
        s.batchSize = 16
        s.hiddenSize = 48
        s.layers = 2
        var lines: [String] = []
        let result = try Quickstart(settings: s).run(reporter: nil) { lines.append($0) }
        XCTAssertEqual(result.summary.globalStep, 120)
        XCTAssertGreaterThan(result.accuracyAfter, result.accuracyBefore + 0.3, "\(result.accuracyBefore) → \(result.accuracyAfter)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("held-out exact match after training: ") }, "\(lines)")
        let out = URL(fileURLWithPath: s.outputDir)
        for file in ["data/train.jsonl", "data/heldout.jsonl", "metrics.jsonl", "checkpoint-120/trainer_state.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
    }
}
