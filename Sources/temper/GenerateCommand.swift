import ArgumentParser
import Foundation
import TemperCore

/// `temper generate`: continue one prompt and stream the text as it is produced.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a GGUF file or a Hugging Face model directory, streaming it to stdout.")

    @OptionGroup var model: ModelOptions
    @Option(help: "The prompt text.")
    var prompt: String
    @Flag(help: "Render the prompt as a user message with the model's chat template.")
    var chat = false
    @OptionGroup var sampling: SamplingOptions

    func run() throws {
        let (pm, adapter) = try model.load()
        let ids: [Int32]
        if chat {
            do { ids = try pm.tokenizer.encodeChat([ChatMessage(role: "user", content: prompt)]) } catch {
                throw CommandError(description: "\(error)")
            }
        } else {
            ids = pm.tokenizer.encode(prompt)
        }
        guard !ids.isEmpty else { throw CommandError(description: "the prompt is empty") }
        let result = try streamGeneration(pm, prompt: ids, options: try sampling.options(stopTokens: pm.stopTokenIds, vocabSize: pm.model.config.vocabSize),
                                          adapter: adapter)
        print("")
        FileHandle.standardError.write(Data(result.summary.utf8))
    }
}

/// Generates for one prompt, writing text to stdout as soon as it forms complete UTF-8 characters.
/// Returns the result and a one-line summary with the speed and the adapter applied, if any.
func streamGeneration(_ pm: PretrainedModel, prompt: [Int32], options: GenerationOptions,
                      adapter: InstalledAdapter?) throws -> (result: GeneratedSequence, summary: String) {
    var decoder = pm.tokenizer.streamingDecoder()
    let stops = options.stopTokenIds
    let start = Date()
    let result = try pm.generator.generate(prompts: [prompt], options: options) { _, token in
        guard !stops.contains(token) else { return }
        let piece = decoder.append(token)
        if !piece.isEmpty {
            FileHandle.standardOutput.write(Data(piece.utf8))
        }
    }[0][0]
    let tail = decoder.finish()
    if !tail.isEmpty { FileHandle.standardOutput.write(Data(tail.utf8)) }
    let seconds = Date().timeIntervalSince(start)
    let n = result.tokenIDs.count
    let summary = String(format: "[%d prompt + %d new tokens, %.1f tokens/s, finish: %@%@]\n",
                         prompt.count, n, Double(n) / max(seconds, 1e-9), result.finishReason.rawValue,
                         adapter.map { ", \($0)" } ?? "")
    return (result, summary)
}
