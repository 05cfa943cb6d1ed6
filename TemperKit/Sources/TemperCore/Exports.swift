@_exported import TemperTensor
@_exported import TemperModels
