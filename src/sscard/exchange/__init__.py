"""外部接入系统 external access: how the platform exchanges data with the systems outside it.

Sub-packages, each with the standard files:

- :mod:`.translation`: code translation (数据翻译): our code sets, the external systems,
  their field names and codes; translating a value or a whole file. Routes in :mod:`.api`.
- :mod:`.mapping`: entity mappings (employers, communities, card types) between our codes
  and a system's, and the queue of codes met without a counterpart.
- :mod:`.files`: the signed packages of batch card making (批量制卡文件), their transfer
  encryption, and the batch exchange with the province (``files.service``).
- :mod:`.peers`: the adapters to the province card centre, the banks and the transport
  operator, on one HTTP client (``peers.client``); ``peers.service`` is what others call.

Every error of the component is in :mod:`.errors`. Read a sub-package's ``service`` first.
"""
