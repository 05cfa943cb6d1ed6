import TemperTensor
/// Transformer language models, tokenizers and model file formats live here (see the models issue).
public enum TemperModelsInfo {
    /// Version of this module's interface.
    public static let version = "0.1.0"
}
