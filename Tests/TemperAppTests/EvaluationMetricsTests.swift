import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The figures `temper eval` reports: pass@k against its closed form, mean and spread, the CSV and
/// the chart, the routing table's arithmetic, and the prompt file's errors.
final class EvaluationMetricsTests: XCTestCase {
    /// C(n, k) as a Double, for the closed form.
    private func choose(_ n: Int, _ k: Int) -> Double {
        guard k >= 0, k <= n else { return 0 }
        return (0..<k).reduce(1.0) { $0 * Double(n - $1) / Double($1 + 1) }
    }

    func testPassAtKEqualsItsClosedForm() throws {
        // n = 5, c = 2: pass@1 = 2/5; pass@2 = 1 − C(3,2)/C(5,2) = 1 − 3/10; pass@3 = 1 − 1/10; pass@4: n − c < k → 1.
        XCTAssertEqual(try passAtK(samples: 5, correct: 2, k: 1), 0.4, accuracy: 1e-12)
        XCTAssertEqual(try passAtK(samples: 5, correct: 2, k: 2), 0.7, accuracy: 1e-12)
        XCTAssertEqual(try passAtK(samples: 5, correct: 2, k: 3), 0.9, accuracy: 1e-12)
        XCTAssertEqual(try passAtK(samples: 5, correct: 2, k: 4), 1)
        XCTAssertEqual(try passAtK(samples: 5, correct: 0, k: 5), 0)
        XCTAssertEqual(try passAtK(samples: 1, correct: 1, k: 1), 1)
        for (n, c, k) in [(10, 3, 1), (10, 3, 4), (20, 1, 7), (16, 8, 8), (30, 29, 2)] {
            XCTAssertEqual(try passAtK(samples: n, correct: c, k: k), 1 - choose(n - c, k) / choose(n, k), accuracy: 1e-12, "n \(n) c \(c) k \(k)")
        }
        // n = 200, c = 1, k = 100: C(199,100)/C(200,100) = 100/200, with no overflow.
        XCTAssertEqual(try passAtK(samples: 200, correct: 1, k: 100), 0.5, accuracy: 1e-12)
    }

    func testPassAtKRefusesImpossibleCounts() {
        for (n, c, k, message) in [(0, 0, 1, "pass@k: needs at least 1 sample, got n = 0"),
                                   (4, 5, 1, "pass@k: correct samples c = 5 must be in 0...4 (n = 4)"),
                                   (4, 2, 5, "pass@k: k = 5 must be in 1...4 (n = 4 samples)")] {
            XCTAssertThrowsError(try passAtK(samples: n, correct: c, k: k)) { XCTAssertEqual("\($0)", message) }
        }
    }

    func testMeanSpreadIsTheSampleStandardDeviation() {
        XCTAssertEqual(MeanSpread([1, 2, 3]), MeanSpread(mean: 2, std: 1))
        XCTAssertEqual(MeanSpread([0.5]), MeanSpread(mean: 0.5, std: 0))
    }

    private func row(_ search: String, _ budget: Int, accuracy: Double, tokens: Double) -> SweepRow {
        let m = { (v: Double) in MeanSpread(mean: v, std: 0) }
        return SweepRow(search: search, budget: budget, seeds: 3, accuracy: MeanSpread(mean: accuracy, std: 0.05), passAt1: m(0.25),
                        passAtK: m(0.5), majAtK: m(0.375), tokensPerAnswer: m(tokens), tokensScoredPerAnswer: m(12),
                        forwardPassesPerAnswer: m(4), wallSeconds: m(1.5))
    }

    func testCSVHasOneLinePerStrategyAndBudget() {
        let csv = SweepRow.csv([row("greedy", 1, accuracy: 0.5, tokens: 6), row("self-consistency:extract=\"hash\"", 8, accuracy: 0.75, tokens: 48)])
        XCTAssertEqual(csv.split(separator: "\n").map(String.init), [
            SweepRow.csvHeader,
            "\"greedy\",1,3,0.5,0.05,0.25,0,0.5,0,0.375,0,6,0,12,4,1.5,0",
            "\"self-consistency:extract=\"\"hash\"\"\",8,3,0.75,0.05,0.25,0,0.5,0,0.375,0,48,0,12,4,1.5,0",
        ])
    }

    func testChartPlacesEveryPointOnLogTokensAndAccuracy() {
        let svg = AccuracyComputeChart.svg([row("greedy", 1, accuracy: 0.5, tokens: 4), row("best-of-n", 1, accuracy: 0.5, tokens: 4),
                                            row("best-of-n", 4, accuracy: 1, tokens: 16)], title: "a <b>")
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertFalse(svg.contains("<script"))
        XCTAssertFalse(svg.contains("href"))
        XCTAssertTrue(svg.contains(">a &lt;b&gt;</text>"))
        // x from log2 4 = 2 to log2 16 = 4 over 466 px from 64; y: 50 % at 34 + 170, 100 % at 34. A lone point has no line.
        XCTAssertFalse(svg.contains("stroke=\"#0072B2\" stroke-width=\"2\""))
        XCTAssertTrue(svg.contains("<circle cx=\"64.0\" cy=\"204.0\" r=\"4\" fill=\"#0072B2\">"))
        XCTAssertTrue(svg.contains("<polyline points=\"64.0,204.0 530.0,34.0\" fill=\"none\" stroke=\"#D55E00\""))
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 3)
    }

    func testRoutingTableBinsAndChoices() throws {
        let table = ComputeOptimalTable(probeSamples: 4, bins: 5, choices: [
            .init(bin: 0, budget: 1, search: "greedy", accuracy: 1, tokensPerAnswer: 5, items: 9),
            .init(bin: 3, budget: 1, search: "greedy", accuracy: 0.2, tokensPerAnswer: 5, items: 4),
            .init(bin: 3, budget: 8, search: "best-of-n", accuracy: 0.6, tokensPerAnswer: 40, items: 4),
        ])
        XCTAssertEqual(ComputeOptimalTable.difficulty(probeScores: [1, 0, nil, 2]), 0.5, "clamped to [0, 1], nil counts 0")
        XCTAssertEqual([0, 0.19, 0.2, 0.5, 0.99, 1].map(table.bin(ofDifficulty:)), [0, 0, 1, 2, 4, 4])
        XCTAssertEqual(try table.choice(bin: 3, budget: 16).search, "best-of-n")
        XCTAssertEqual(try table.choice(bin: 3, budget: 7).search, "greedy")
        XCTAssertEqual(try table.choice(bin: 4, budget: 8).search, "best-of-n", "an empty bin borrows the nearest one's")
        XCTAssertEqual(try table.choice(bin: 1, budget: 8).search, "greedy", "equally near: the easier bin")
        let folder = try makeTemporaryFolder("table")
        let path = folder.appendingPathComponent("t.json").path
        try table.write(to: path)
        XCTAssertEqual(try ComputeOptimalTable.load(path), table)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["t.json"])
    }

    func testPromptFileReadsTRLShapesAndNamesTheBadLine() throws {
        let folder = try makeTemporaryFolder("prompts")
        let good = folder.appendingPathComponent("good.jsonl").path
        try """
        {"prompt": "What is 2+2?", "answer": "4"}
        {"prompt": [{"role": "user", "content": "3+3?"}], "answer": 6}

        {"messages": [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}], "nums": [1, 1]}
        """.write(toFile: good, atomically: true, encoding: .utf8)
        let file = try PromptFile(path: good)
        XCTAssertEqual(file.prompts, [.text("What is 2+2?"), .messages([ChatMessage(role: "user", content: "3+3?")]),
                                      .messages([ChatMessage(role: "user", content: "1+1?")])])
        XCTAssertEqual(file.lines, [1, 2, 4])
        XCTAssertEqual(file.columns["answer"], [.string("4"), .number(6), .null])
        XCTAssertEqual(file.columns(ofRow: 2), ["answer": [.null], "nums": [.array([.number(1), .number(1)])], "completion": [.string("2")]])
        XCTAssertEqual(file.columns["completion"], [.null, .null, .string("2")])

        let bad = folder.appendingPathComponent("bad.jsonl").path
        try "{\"prompt\": \"a\"}\n{\"prompt\": 3}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PromptFile(path: bad)) { error in
            XCTAssertEqual("\(error)", "\(bad):2: field 'prompt': expected a string or a list of messages, got the number 3")
        }
    }
}
