import XCTest
@testable import TemperModels
import TemperTensor

/// `DecodeProfiler` (behind `temper-bench generate --profile`): counts decode steps only, covers
/// every phase of one, never more than the step's own time, and changes no result.
extension GenerationTests {
    func testDecodeProfilerCountsDecodeStepsAndTheirPhases() throws {
        let g = try tinyGenerator()
        let options = GenerationOptions(maxNewTokens: 6, temperature: 1, topP: 0.9, seed: 4)
        DecodeProfiler.reset()
        let plain = try g.generate(prompts: [[10, 20], [30]], options: options)
        XCTAssertEqual(DecodeProfiler.report.steps, 0, "counted while disabled")

        DecodeProfiler.isEnabled = true
        let profiled = try g.generate(prompts: [[10, 20], [30]], options: options)
        DecodeProfiler.isEnabled = false
        XCTAssertEqual(profiled, plain)
        let report = DecodeProfiler.report
        // 6 tokens per row: the prefill gives the first, 5 decode steps the rest.
        XCTAssertEqual(report.steps, 5)
        for phase in DecodeProfiler.Phase.allCases {
            XCTAssertGreaterThan(report.nanoseconds[phase] ?? 0, 0, "\(phase.label) not timed")
        }
        XCTAssertLessThanOrEqual(report.nanoseconds.values.reduce(0, +), report.totalNanoseconds)
        XCTAssertEqual(report.otherNanoseconds, report.totalNanoseconds - report.nanoseconds.values.reduce(0, +))

        DecodeProfiler.reset()
        XCTAssertEqual(DecodeProfiler.report.steps, 0)
        XCTAssertEqual(DecodeProfiler.report.totalNanoseconds, 0)
    }
}
