//! `GET /api/venues`: the venues this server can answer for and, per venue, the chain of every
//! tracked asset (its Redis key and contract count; 0 when the venue lists nothing for it or
//! its feeder is not running). Every chain endpoint takes `?venue=` with these names.

use options_core::Venue;
use serde_json::json;
use warp::reply::Response;

use crate::assets::{asset_config, contracts};
use crate::error::ApiResult;
use crate::respond::json_value;
use crate::state::State;

pub async fn list(st: &State) -> ApiResult<Response> {
    let tracked = asset_config(st).await?.tracked();
    let mut venues = Vec::new();
    for venue in Venue::ALL {
        let mut chains = Vec::new();
        for asset in &tracked {
            let key = venue.key(asset);
            let n = contracts(st, &key).await?;
            chains.push(json!({"asset": asset, "key": key, "contracts": n}));
        }
        venues.push(json!({"venue": venue.as_str(), "chains": chains}));
    }
    Ok(json_value(&json!({"venues": venues})))
}
