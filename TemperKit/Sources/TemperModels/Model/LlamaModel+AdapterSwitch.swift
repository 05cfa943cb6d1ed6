import TemperTensor

extension LlamaModel {
    /// Runs `body` on the base model: every linear layer's adapter, the prompt-tuning tokens and the
    /// prefix keys/values are taken out for the call and put back afterwards (also when `body`
    /// throws).
    ///
    /// This is the reference policy of DPO and KL-regularised RL under PEFT, as PEFT's
    /// `disable_adapter()` context: the frozen base is the model before training, so no second copy
    /// of the weights is needed.
    public func withAdaptersDisabled<R>(_ body: () throws -> R) rethrows -> R {
        let linears = linearLayers + [lmHead]
        let adapters = linears.map(\.adapter)
        let tokens = virtualTokens, prefix = prefixKeyValues
        for l in linears { l.adapter = nil }
        virtualTokens = nil
        prefixKeyValues = nil
        defer {
            for (l, a) in zip(linears, adapters) { l.adapter = a }
            virtualTokens = tokens
            prefixKeyValues = prefix
        }
        return try body()
    }

    /// Whether anything is installed on top of the base weights (an adapter on some linear layer,
    /// prompt-tuning tokens or prefix keys/values): then `withAdaptersDisabled` gives the base model.
    public var hasAdapters: Bool {
        virtualTokens != nil || prefixKeyValues != nil || (linearLayers + [lmHead]).contains { $0.adapter != nil }
    }

    /// A frozen deep copy of every base weight (adapters not included): the reference model of full
    /// fine-tuning, which cannot switch its update off.
    public func frozenCopy() throws -> LlamaModel {
        var weights: [String: Tensor] = [:]
        for p in namedParameters { weights[p.name] = p.tensor.copy() }
        return try LlamaModel(config: config, weights: weights, source: "frozen copy")
    }
}
