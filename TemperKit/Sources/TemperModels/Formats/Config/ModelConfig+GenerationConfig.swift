import Foundation

extension ModelConfig {
    /// A Hugging Face `generation_config.json`: the special tokens `generate` starts, stops and pads
    /// with. transformers takes the stop tokens from this file, so without it a model saved from
    /// GGUF would not stop at its end-of-turn token there as it does in Temper.
    public func huggingFaceGenerationConfigJSON(padTokenId: Int?) throws -> Data {
        var o: [String: Any] = [:]
        if let bosTokenId { o["bos_token_id"] = bosTokenId }
        if let eos = huggingFaceEOSValue { o["eos_token_id"] = eos }
        if let padTokenId { o["pad_token_id"] = padTokenId }
        return try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys])
    }

    /// `eos_token_id` as Hugging Face writes it: one id as a number, several as a list, none absent.
    var huggingFaceEOSValue: Any? {
        eosTokenIds.count == 1 ? eosTokenIds[0] : eosTokenIds.isEmpty ? nil : eosTokenIds
    }
}
