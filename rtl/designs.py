"""The registry of top-level designs that ``make verilog``, ``make lint`` and the runner know.

Each entry maps the Verilog module name to ``("package.module:Callable", {keyword params})``.
"""

__all__ = ["DESIGNS"]

DESIGNS = {
    "aes_encrypt_pipeline": ("rtl.aes.pipeline:AESEncryptPipeline", {"tag_width": 8}),
    "aes_decrypt_pipeline": ("rtl.aes.pipeline:AESDecryptPipeline", {"tag_width": 8}),
    "mee_engine": ("rtl.engine.top:MEEngineTop", {}),
}
