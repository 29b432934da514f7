"""List dialects: how each CMS family publishes its lists, read from the page itself.

Government sites are a handful of CMS families, and each writes its lists its own way;
a crawler that reads only `<a href>` finds the first page of most columns and nothing
of the rest. Each module here reads one family's list pages, recognized from the page
alone (no per-site configuration), and says which links are articles, which are later
pages of the same list (pagers), and which are further link sources (sitemaps, feeds):

| dialect  | recognized by                                         | later pages come from                          |
|----------|-------------------------------------------------------|------------------------------------------------|
| sitemap  | `<urlset>` / `<sitemapindex>` XML                     | child sitemaps of an index                     |
| feed     | RSS `<rss>` / Atom `<feed>`                           | —                                              |
| hanweb   | `<datastore>` records in a script, `jpage({...})`     | `/module/web/jpage/dataproxy.jsp` ranges (POST)|
| gkmlpt   | Guangdong 政府信息公开目录: `/gkmlpt/`, `SID:` config | `/gkmlpt/api/all/{cat}?page=N&sid=S` (JSON)    |
| jsonapi  | a JSON list API named in the page's scripts           | the API's page parameter, incremented          |
| trs      | `createPageHTML(...)` or `var countPage = N` scripts  | `index_1.html … index_{N-1}.html`              |
| govcn    | 下一页 / 尾页 / numbered pager anchors                | the next-page anchor (`home_1.htm`, `index_2.html`) |
| plain    | none of the above                                     | —                                              |

Pagers are followed one page at a time and only from a page that yielded a new
article (workers/stages/fetch.py): deep pagination on these sites is often a stale stub.
`docs/dialects.md` documents each dialect with the public pages it follows.
"""
from __future__ import annotations

from govingest.crawler.listing.model import Link, Listing, Page
from govingest.crawler.listing.read import read_listing

__all__ = ["Link", "Listing", "Page", "read_listing"]
