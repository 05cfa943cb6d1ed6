import ArgumentParser
import TemperCore

/// The sampling flags `generate` and `chat` share, with Hugging Face `generate` semantics.
struct SamplingOptions: ParsableArguments {
    @Option(name: .customLong("max-new-tokens"), help: "Most tokens to generate.")
    var maxNewTokens = 256
    @Option(help: "Softmax temperature; 0 is greedy.")
    var temperature: Float = 0
    @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0 = off).")
    var topK = 0
    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass (1 = off).")
    var topP: Float = 1
    @Option(name: .customLong("min-p"), help: "Drop tokens below min-p times the best one's probability (0 = off).")
    var minP: Float = 0
    @Option(name: .customLong("repetition-penalty"), help: "CTRL repetition penalty (1 = off).")
    var repetitionPenalty: Float = 1
    @Option(name: .customLong("min-new-tokens"), help: "Fewest tokens before a stop token or text may end generation.")
    var minNewTokens = 0
    @Option(name: .customLong("suppress-token"), help: "A token id that is never generated (repeatable).")
    var suppressTokens: [Int32] = []
    @Option(name: .customLong("stop"), help: "A text that ends generation (repeatable).")
    var stop: [String] = []
    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    /// The options, stopping at the model's end-of-turn tokens as well as `--stop`.
    func options(stopTokens: Set<Int32>, vocabSize: Int) throws -> GenerationOptions {
        let p = GenerationOptions(maxNewTokens: maxNewTokens, minNewTokens: minNewTokens, temperature: temperature, topK: topK,
                                  topP: topP, minP: minP, repetitionPenalty: repetitionPenalty, stopStrings: stop,
                                  stopTokenIds: stopTokens, suppressTokenIds: Set(suppressTokens), seed: seed)
        do { try p.validate(vocabSize: vocabSize) } catch { throw CommandError(description: "\(error)") }
        return p
    }
}
