"""Simulated department systems (委办局业务系统) for the demo, the tests and the benchmarks.

Each keeps its own idiosyncratic schema, as real ones do: 发改 investment-project approvals
(with their attachments on a file share, `fgw_attachments`) and 市场监管 business licences in
SQL (`fgw`, `scjg`), 自然资源 land pre-review and real-estate certificates behind a paged HTTP
API (`zrzy`), 人社 social-insurance files dropped as GBK CSV and XLSX (`rs`), 住建 building-
permit materials dropped as scans with a GBK index (`zj`). Their documents are real JPEG and
PDF files (`scans`, `materials`). All draw from `random.Random(seed)` and can mix in a chosen
share of bad records, whose keys they expose as `bad_keys`. `demo.Demo` keeps all five busy.
"""
