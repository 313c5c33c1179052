-- Search reads title matches first (store/search.rs): their own index, beside events_search.
CREATE INDEX events_search_title ON events USING GIN (search_title_tsv);
