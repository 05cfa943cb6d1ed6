import Foundation
import TemperCore
import TemperTestSupport
import XCTest

extension TestSupport {
    /// Runs the built `temper` from the repository root, without the caller's `TEMPER_PLUGIN_PATH`
    /// (plugins come from the build folder only).
    @discardableResult
    static func temper(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try run(TestPlugins.buildFolder + "/temper", arguments, in: TemperRepository.root, environment: temperEnvironment())
    }

    /// Runs `temper` with `input` on its standard input (for `temper chat`), through the shell.
    static func temper(_ arguments: [String], input: String) throws -> (status: Int32, out: String, err: String) {
        let quoted = ([TestPlugins.buildFolder + "/temper"] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let script = "printf '%s' \"$TEMPER_TEST_INPUT\" | " + quoted.joined(separator: " ")
        var env = temperEnvironment()
        env["TEMPER_TEST_INPUT"] = input
        return try run("/bin/sh", ["-c", script], in: TemperRepository.root, environment: env)
    }

    /// This process's environment without `TEMPER_PLUGIN_PATH`: plugins come from the build folder only.
    private static func temperEnvironment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["TEMPER_PLUGIN_PATH"] = nil
        return env
    }

    /// The tiny Llama written by transformers (fixtures/tiny-llama-hf) and PEFT's LoRA adapter for it.
    static let tinyModel = TemperRepository.fixtures.appendingPathComponent("tiny-llama-hf")
    /// PEFT's LoRA adapter for `tinyModel` (r=4, all seven projections).
    static let tinyPEFTLoRA = tinyModel.appendingPathComponent("peft-lora")

    /// Greedy ids continuing `prompt` (the chat-rendered user message when `chat`), stopping at the
    /// model's stop tokens as `temper generate` does.
    static func greedyIDs(_ pm: PretrainedModel, _ prompt: String, chat: Bool = false, tokens: Int = 12) throws -> [Int32] {
        let ids = chat ? try pm.tokenizer.encodeChat([ChatMessage(role: "user", content: prompt)]) : pm.tokenizer.encode(prompt)
        let options = GenerationOptions(maxNewTokens: tokens, temperature: 0, stopTokenIds: pm.stopTokenIds)
        return try pm.generator.generate(prompts: [ids], options: options)[0][0].tokenIDs
    }

    /// What `temper generate` prints for the generated `ids`: the text without the stop token, a newline.
    static func printedText(_ pm: PretrainedModel, _ ids: [Int32]) -> String {
        pm.tokenizer.decode(ids.filter { !pm.stopTokenIds.contains($0) }) + "\n"
    }
}
