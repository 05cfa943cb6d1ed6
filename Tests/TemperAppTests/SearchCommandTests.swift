import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper search` and `temper eval`, run as the built executable on the tiny Llama fixture (random
/// weights: the checks are on shapes, compute and files, not on accuracy).
final class SearchCommandTests: XCTestCase {
    private var folder: URL!
    private let model = TestSupport.tinyModel.path

    override func setUpWithError() throws { folder = try makeTemporaryFolder("search-command") }

    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    private func data(_ rows: [String]) throws -> String {
        let path = folder.appendingPathComponent("prompts.jsonl").path
        try (rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testSearchPrintsOneLinePerRowWithItsCandidatesAndCompute() throws {
        let file = try data([#"{"prompt": "one two", "answer": "3"}"#, #"{"prompt": "three", "answer": "4"}"#])
        let r = try TestSupport.temper(["search", "--model", model, "--search", "best-of-n", "--reward", "math-equiv", "--budget", "3",
                                        "--temperature", "0.8", "--max-new-tokens", "4", "--no-chat", "--data", file])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = try jsonLines(r.out)
        XCTAssertEqual(lines.map { $0["index"] as? Int }, [0, 1])
        for line in lines {
            let candidates = try XCTUnwrap(line["candidates"] as? [[String: Any]])
            XCTAssertEqual(candidates.count, 3)
            XCTAssertEqual(line["answer"] as? String, candidates[0]["text"] as? String)
            let generated = try XCTUnwrap(line["tokens_generated"] as? Int)
            XCTAssertTrue((3...12).contains(generated), "3 samples of 1 to 4 tokens, got \(generated)")
            XCTAssertEqual(line["scoring_failures"] as? [String], [])
            // Scores are math-equiv's 0 or 1, best first.
            let scores = candidates.compactMap { $0["score"] as? Double }
            XCTAssertEqual(scores, scores.sorted(by: >))
            XCTAssertTrue(scores.allSatisfy { $0 == 0 || $0 == 1 })
        }
    }

    func testSearchErrorsNameWhatIsWrong() throws {
        let noVerifier = try TestSupport.temper(["search", "--model", model, "--search", "best-of-n", "--temperature", "0.8", "--prompt", "hi"])
        XCTAssertEqual(noVerifier.status, 1)
        XCTAssertTrue(noVerifier.err.hasSuffix("Error: best-of-n: needs a verifier to pick the best of 4 samples (temper search: --reward SPEC; temper eval: --verifier SPEC, or --verifier oracle to select with the grading reward)\n"), noVerifier.err)
        let unknown = try TestSupport.temper(["search", "--model", model, "--search", "best-of-m", "--prompt", "hi"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.err.contains("unknown search strategy 'best-of-m'"), unknown.err)
        let scorer = try TestSupport.temper(["search", "--model", model, "--search", "beam", "--step-scorer", "prm", "--prompt", "hi"])
        XCTAssertEqual(scorer.status, 1)
        XCTAssertTrue(scorer.err.hasSuffix("Error: --step-scorer must be none, self-evaluation or rollout, got 'prm'\n"), scorer.err)
        let bad = try data([#"{"prompt": "a"}"#, #"{"messages": 7}"#])
        let row = try TestSupport.temper(["search", "--model", model, "--search", "greedy", "--data", bad])
        XCTAssertEqual(row.status, 1)
        XCTAssertTrue(row.err.hasSuffix("Error: \(bad):2: field 'messages': expected a list of messages, got the number 7\n"), row.err)
    }

    func testEvalWritesItemsSummaryAndChart() throws {
        let file = try data([#"{"prompt": "one", "answer": "1"}"#, #"{"prompt": "two", "answer": "2"}"#, #"{"prompt": "three", "answer": "3"}"#])
        let out = folder.appendingPathComponent("eval")
        let table = folder.appendingPathComponent("table.json").path
        let r = try TestSupport.temper(["eval", "--model", model, "--data", file, "--reward", "math-equiv", "--search", "greedy",
                                        "--search", "self-consistency", "--budgets", "1,2", "--seeds", "2", "--temperature", "0.8",
                                        "--max-new-tokens", "3", "--no-chat", "--output-dir", out.path, "--sweep-table", table,
                                        "--probe-samples", "2", "--bins", "2", "--verifier", "oracle"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("SEARCH            BUDGET  ACCURACY %"), r.out)
        XCTAssertTrue(r.err.contains("eval: self-consistency budget 2 seed 1: 3/3 items"), r.err)
        let items = try jsonLines(try String(contentsOf: out.appendingPathComponent("items.jsonl"), encoding: .utf8))
        XCTAssertEqual(items.count, 2 * 2 * 2 * 3, "searches × budgets × seeds × items")
        XCTAssertEqual(items.filter { $0["search"] as? String == "self-consistency" && $0["budget"] as? Int == 2 }
                        .map { $0["candidates"] as? Int }, Array(repeating: 2, count: 6))
        let csv = try String(contentsOf: out.appendingPathComponent("summary.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first.map(String.init), SweepRow.csvHeader)
        XCTAssertEqual(csv.dropFirst().map { $0.split(separator: ",").prefix(3).joined(separator: ",") },
                       ["\"greedy\",1,2", "\"greedy\",2,2", "\"self-consistency\",1,2", "\"self-consistency\",2,2"])
        let svg = try String(contentsOf: out.appendingPathComponent("accuracy-vs-compute.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        let routing = try ComputeOptimalTable.load(table)
        XCTAssertEqual(routing.probeSamples, 2)
        XCTAssertEqual(routing.bins, 2)
    }

    func testEvalSelectsWithTheVerifierItIsGivenAndLabelsAnOracle() throws {
        let file = try data([#"{"prompt": "one", "answer": "1"}"#, #"{"prompt": "two", "answer": "2"}"#])
        func eval(_ extra: [String]) throws -> (status: Int32, out: String, err: String, csv: String, svg: String) {
            let out = folder.appendingPathComponent("eval-\(extra.joined())")
            let r = try TestSupport.temper(["eval", "--model", model, "--data", file, "--reward", "math-equiv", "--search", "greedy",
                                            "--search", "best-of-n", "--budgets", "2", "--seeds", "1", "--temperature", "0.8",
                                            "--max-new-tokens", "3", "--no-chat", "--output-dir", out.path] + extra)
            let read = { (name: String) in (try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)) ?? "" }
            return (r.status, r.out, r.err, read("summary.csv"), read("accuracy-vs-compute.svg"))
        }
        let none = try eval([])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.err.hasSuffix("Error: best-of-n: needs a verifier to pick the best of 2 samples (temper search: --reward SPEC; " +
                                         "temper eval: --verifier SPEC, or --verifier oracle to select with the grading reward)\n"), none.err)
        let oracle = try eval(["--verifier", "oracle"])
        XCTAssertEqual(oracle.status, 0, oracle.err)
        XCTAssertEqual(oracle.csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",").first.map(String.init) },
                       ["\"greedy\"", "\"best-of-n (oracle verifier)\""])
        XCTAssertTrue(oracle.out.contains("best-of-n (oracle verifier)"), oracle.out)
        XCTAssertTrue(oracle.svg.contains(">best-of-n (oracle verifier)<"), oracle.svg)
        let other = try eval(["--verifier", "repetition"])
        XCTAssertEqual(other.status, 0, other.err)
        XCTAssertTrue(other.csv.contains("\"best-of-n (verifier: repetition)\""), other.csv)
        let mixed = try eval(["--verifier", "oracle", "--verifier", "repetition"])
        XCTAssertEqual(mixed.status, 64)
        XCTAssertTrue(mixed.err.contains("--verifier oracle selects with the grading --reward alone; give it without other --verifier specs"), mixed.err)
    }

    func testEvalRefusesBadBudgets() throws {
        let file = try data([#"{"prompt": "one", "answer": "1"}"#])
        let r = try TestSupport.temper(["eval", "--model", model, "--data", file, "--reward", "math-equiv", "--search", "greedy",
                                        "--budgets", "1,x", "--output-dir", folder.appendingPathComponent("e").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.hasSuffix("Error: --budgets: 'x' is not a whole number (expected e.g. 1,2,4,8,16)\n"), r.err)
    }
}
