import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// Preference optimization and reward models from the command line: `temper data make --preference`,
/// `temper train --objective dpo` with precomputed reference log-probabilities and resume,
/// `--objective reward-modeling` writing a sequence classifier that `--reward reward-model` scores with.
final class PreferenceCommandTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) { try TestSupport.temper(arguments) }

    private func pairs(in dir: URL) throws -> URL {
        let file = dir.appendingPathComponent("pairs.jsonl")
        let r = try run(["data", "make", "addition", "--n", "12", "--seed", "3", "--preference", "--output", file.path, "--digits", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("wrote 12 train preference pairs of addition to \(file.path)"), r.err)
        return file
    }

    func testDataMakeWritesPairsWhoseRejectedAnswerIsWrong() throws {
        let file = try pairs(in: try makeTemporaryFolder("pref-data"))
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 12)
        for line in lines {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let answer = row["answer"] as! String
            let chosen = (row["chosen"] as! [[String: String]])[0]["content"]!, rejected = (row["rejected"] as! [[String: String]])[0]["content"]!
            XCTAssertEqual(chosen, answer)
            XCTAssertNotEqual(rejected, answer)
            XCTAssertLessThanOrEqual(abs(Int(rejected)! - Int(answer)!), 5)
        }
        let sorting = try run(["data", "make", "sorting", "--n", "1", "--seed", "1", "--preference", "--plain"])
        XCTAssertEqual(sorting.status, 0, sorting.err)
        let row = try JSONSerialization.jsonObject(with: Data(sorting.out.utf8)) as! [String: Any]
        let chosen = (row["chosen"] as! String).split(separator: " ").map { Int($0)! }, rejected = (row["rejected"] as! String).split(separator: " ").map { Int($0)! }
        XCTAssertEqual(chosen, chosen.sorted())
        XCTAssertEqual(rejected.sorted(), chosen)
        XCTAssertEqual(zip(chosen, rejected).filter { $0 != $1 }.count, 2, "two neighbours swapped")
    }

    func testDataMakeStepsWritesChainsLabelledFromTheirFirstWrongStep() throws {
        let file = try makeTemporaryFolder("pref-steps").appendingPathComponent("chains.jsonl")
        let r = try run(["data", "make", "arithmetic-chain", "--n", "200", "--seed", "4", "--steps", "--output", file.path, "--operations", "4"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("wrote 200 train step-labelled chains of arithmetic-chain to \(file.path)"), r.err)
        var wrong = 0, firstWrong = [Int](repeating: 0, count: 4)
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
            let row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertTrue((row["prompt"] as? String)?.hasPrefix("Compute ") == true)
            let steps = try XCTUnwrap(row["completions"] as? [String]), labels = try XCTUnwrap(row["labels"] as? [Bool])
            let first = try XCTUnwrap(row["first_wrong_step"] as? Int)
            XCTAssertEqual(steps.count, 4)
            XCTAssertEqual(labels, (0..<4).map { first < 0 || $0 < first }, "true before the wrong step, false from it on")
            var carried: Int?
            for (i, step) in steps.enumerated() {
                // "a + b = c": a carries on from the previous result; only the wrong step's c is off.
                let w = step.split(separator: " ").map(String.init)
                let a = try XCTUnwrap(Int(w[0])), b = try XCTUnwrap(Int(w[2])), c = try XCTUnwrap(Int(w[4]))
                if let carried { XCTAssertEqual(a, carried, step) }
                let right = w[1] == "+" ? a + b : a - b
                if i == first { XCTAssertTrue(c != right && abs(c - right) <= 5, step) } else { XCTAssertEqual(c, right, step) }
                carried = c
            }
            if first >= 0 { wrong += 1; firstWrong[first] += 1 }
        }
        XCTAssertTrue((70...130).contains(wrong), "about half the chains are wrong: \(wrong)")
        XCTAssertTrue(firstWrong.allSatisfy { $0 >= 10 }, "the wrong step is drawn over the whole chain: \(firstWrong)")
        let bad = try run(["data", "make", "addition", "--n", "1", "--steps"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("--steps needs a task whose solution is a chain of 'a + b = c' / 'a - b = c' lines (arithmetic-chain); got the line '"), bad.err)
        let both = try run(["data", "make", "arithmetic-chain", "--n", "1", "--steps", "--preference"])
        XCTAssertEqual(both.status, 1)
        XCTAssertTrue(both.err.contains("--preference and --steps write different rows: give one"), both.err)
    }

    func testDPOWithPrecomputedReferenceLogProbsTrainsAndResumesWithoutRecomputing() throws {
        let dir = try makeTemporaryFolder("pref-dpo")
        let data = try pairs(in: dir)
        let out = dir.appendingPathComponent("run")
        let args = ["train", "--objective", "dpo:beta=0.1", "--model", TestSupport.tinyModel.path, "--data", data.path, "--eval_data", data.path,
                    "--peft", "lora:r=4", "--output_dir", out.path, "--max_steps", "2", "--save_steps", "1", "--per_device_train_batch_size", "4",
                    "--precompute_ref_log_probs", "true", "--logging_steps", "1"]
        let r = try run(args)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("reference log-probabilities of 12 pairs of \(data.path) written to \(out.path)/ref_logps_train.safetensors"), r.err)
        let metrics = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        for key in ["\"rewards/accuracies\"", "\"eval_rewards/margins\"", "\"eval_logps/chosen\""] { XCTAssertTrue(metrics.contains(key), metrics) }
        XCTAssertFalse(metrics.contains("eval_perplexity"), metrics)
        let resumed = try run(args + ["--resume_from_checkpoint", "\(out.path)/checkpoint-1"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("reference log-probabilities of \(data.path) read from \(out.path)/ref_logps_train.safetensors"), resumed.err)
        XCTAssertTrue(resumed.err.contains("resumed from \(out.path)/checkpoint-1 at step 1/2"), resumed.err)
    }

    func testRewardModelingWritesAClassifierThatTheRewardModelRewardLoads() throws {
        let dir = try makeTemporaryFolder("pref-rm")
        let data = try pairs(in: dir)
        let out = dir.appendingPathComponent("rm")
        let r = try run(["train", "--objective", "reward-modeling", "--model", TestSupport.tinyModel.path, "--data", data.path, "--peft", "lora:r=4",
                         "--output_dir", out.path, "--max_steps", "2", "--per_device_train_batch_size", "4"])
        XCTAssertEqual(r.status, 0, r.err)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["LlamaForSequenceClassification"])
        let completions = dir.appendingPathComponent("completions.jsonl")
        try #"{"prompt": "What is 2 + 2?", "completion": "4"}"#.appending("\n").write(to: completions, atomically: true, encoding: .utf8)
        let scored = try run(["reward", "--reward", "reward-model:path=\(out.path)", "--data", completions.path])
        XCTAssertEqual(scored.status, 0, scored.err)
        XCTAssertTrue(scored.out.contains("reward-model"), scored.out)
    }
}
