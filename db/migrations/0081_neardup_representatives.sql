-- 0081_neardup_representatives: LSH bands are kept for each cluster's representative only
-- (the document the cluster started with, cluster_id = id), so a near-duplicate written into
-- a 1,000-member cluster reads one candidate, not a thousand (db/neardup.py).
DELETE FROM doc_lsh_bands b USING documents d
WHERE d.id = b.document_id AND d.cluster_id IS DISTINCT FROM d.id;
