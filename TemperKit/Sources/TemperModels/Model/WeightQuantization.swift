import TemperTensor

/// How a loaded model holds the frozen weights of its linear projections (q, k, v, o, gate, up,
/// down, the LM head) and its token embedding; norms and biases stay float32.
public enum WeightQuantization: Equatable, Sendable {
    /// float32 everywhere: a GGUF file's blocks are decoded at load.
    case none
    /// A GGUF file's block-quantized projections and embedding stay as they are in the file
    /// (memory-mapped); types without kernels are decoded, with a one-line note on stderr.
    case keepGGUFBlocks
    /// As `keepGGUFBlocks`, and every projection still in float32 is encoded to the format at load
    /// (QLoRA's `load_in_8bit` → Q8_0, `load_in_4bit` → Q4_0). As with bitsandbytes, a float
    /// embedding (and the tied head that shares it) stays float32.
    case quantize(QuantFormat)

    /// The format of bitsandbytes' / PEFT's `load_in_8bit` / `load_in_4bit` (`--load_in 8bit|4bit`).
    public static func loadIn(_ bits: String) -> WeightQuantization? {
        switch bits.lowercased() {
        case "8bit", "8": return .quantize(.q8_0)
        case "4bit", "4": return .quantize(.q4_0)
        default: return nil
        }
    }
}

extension LlamaModel {
    /// The projections `WeightQuantization` applies to: every decoder linear layer and the LM head
    /// when it is not the embedding.
    var quantizableLayers: [Linear] { linearLayers + (config.tieWordEmbeddings ? [] : [lmHead]) }

    /// Encodes every float projection to `format` (see `WeightQuantization.quantize`).
    public func quantizeProjections(to format: QuantFormat) throws {
        for layer in quantizableLayers where !layer.isQuantized { try layer.quantize(to: format) }
    }

    /// Encodes every decoder projection to `format`, decoding blocks of another format first (e.g.
    /// a Q4_1 file's projections to Q8_0, to measure one format from a file of another).
    public func reencodeProjections(to format: QuantFormat) throws {
        for layer in linearLayers where layer.quantizedWeight?.format != format {
            let old = layer.quantizedWeight
            let decoded = layer.weight
            layer.weight = decoded
            try layer.quantize(to: format)
            old?.releaseMappedPages()
        }
    }

    /// Bytes held by block-quantized weights (a tied head's blocks are the embedding's, counted
    /// once), and how many matrices hold them.
    public var quantizedWeightBytes: (bytes: Int, layers: Int) {
        let q = quantizableLayers.compactMap(\.quantizedWeight) + (quantizedEmbedding.map { [$0] } ?? [])
        return (q.reduce(0) { $0 + $1.byteCount }, q.count)
    }
}
