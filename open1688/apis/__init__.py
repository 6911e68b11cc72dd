"""The 1688 API families, one module each (docs/protocol.md); open1688/client.py composes them
into Open1688Client. The namespaces and the buyer-side `country` are shared by several."""

PRODUCT_NAMESPACE = "com.alibaba.product"
SEARCH_NAMESPACE = "com.alibaba.fenxiao.crossborder"
LOGISTICS_NAMESPACE = "com.alibaba.logistics"
PUSH_NAMESPACE = "cn.alibaba.open"
# The buyer-side APIs (queryProductDetail, keywordQuery) require `country`: the language of the
# answer's translated fields.
BUYER_COUNTRY = "en"
